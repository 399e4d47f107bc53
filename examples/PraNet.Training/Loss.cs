// The structure loss, declared the way a user of LossDsl writes it, and the two ways the demo can run it:
//
//   --loss generated   the code the LossDsl generator emits for StructureLoss below (see obj/.../generated/)
//   --loss eager       a hand-written eager TorchSharp translation of PraNet's Python (the baseline)
//
// Both go through ILossFunction, so the training loop does not know which one it runs.
using System;
using System.Collections.Generic;
using LossDsl;
using LossDsl.TorchSharp;
using TorchSharp;
using static LossDsl.Dsl;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace PraNet.Training;

/// <summary>
/// F3Net / PraNet structure loss: boundary-weighted BCE plus weighted IoU, per image, averaged over the batch.
/// The weight map <c>1 + 5·|avg_pool(mask, 31) − mask|</c> stresses pixels near the object's boundary.
/// </summary>
/// <remarks>
/// This declaration is all a user writes. At build time the LossDsl generator turns it into fused code; with
/// <c>EmitCompilerGeneratedFiles</c> on (see the .csproj) the files land in
/// <c>obj/Debug/net10.0/generated/LossDsl.Generators/LossDsl.Generators.LossGenerator/PraNet.Training.StructureLoss.*.g.cs</c>,
/// each with a doc comment stating the loss and its derived gradient.
/// </remarks>
[Loss]
public static partial class StructureLoss
{
    private static Field Weight(Target mask) => 1 + (5 * Abs(AvgPool(mask, 31) - mask));

    [Term]
    private static Plane Bce(Logits pred, Target mask) => WeightedMean(BceWithLogits(pred, mask), Weight(mask));

    [Term]
    private static Plane IoU(Logits pred, Target mask)
    {
        var w = Weight(mask);
        var p = Sigmoid(pred);
        var inter = Sum(w * p * mask);
        var union = Sum(w * (p + mask));
        return 1 - ((inter + 1) / (union - inter + 1));
    }
}

/// <summary>Which implementation of the structure loss the trainer uses.</summary>
public enum LossKind
{
    /// <summary>The code the LossDsl generator emits for <see cref="StructureLoss"/>.</summary>
    Generated,

    /// <summary>An eager TorchSharp translation of PraNet's Python structure loss (one kernel per operator).</summary>
    Eager,
}

/// <summary>A deep-supervision loss: the sum of the structure loss over the network's side outputs.</summary>
public interface ILossFunction
{
    /// <summary>A short name for logs.</summary>
    string Name { get; }

    /// <summary>
    /// Σ over <paramref name="preds"/> of the structure loss of each side output (logits, N×1×H×W) against
    /// <paramref name="mask"/> (N×1×H×W in [0, 1]). Differentiable with respect to every prediction.
    /// </summary>
    Tensor Compute(IReadOnlyList<Tensor> preds, Tensor mask);

    /// <summary>Creates the implementation for <paramref name="kind"/>.</summary>
    static ILossFunction Create(LossKind kind) => kind switch
    {
        LossKind.Generated => new GeneratedLoss(),
        LossKind.Eager => new EagerLoss(),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown loss kind."),
    };
}

/// <summary>The generated structure loss.</summary>
public sealed class GeneratedLoss : ILossFunction
{
    /// <inheritdoc/>
    public string Name => "generated";

    /// <inheritdoc/>
    public Tensor Compute(IReadOnlyList<Tensor> preds, Tensor mask)
    {
        // The generator's TorchSharp entry point: autograd-aware, target-only work (the weight map) done once.
        return StructureLoss.Compute(preds, mask);
    }
}

/// <summary>
/// Eager TorchSharp translation of the structure loss (PraNet's <c>train.py</c>, with the per-pixel weighted BCE
/// that F3Net intends), summed over side outputs. The weight map is computed once per batch.
/// </summary>
public sealed class EagerLoss : ILossFunction
{
    /// <inheritdoc/>
    public string Name => "eager";

    /// <inheritdoc/>
    public Tensor Compute(IReadOnlyList<Tensor> preds, Tensor mask)
    {
        ArgumentNullException.ThrowIfNull(preds);
        if (preds.Count == 0)
        {
            throw new ArgumentException("At least one prediction is needed.", nameof(preds));
        }

        // weit = 1 + 5*|avg_pool2d(mask, 31, stride 1, padding 15) - mask|   (count_include_pad, as PyTorch)
        Tensor weit = 1 + (5 * (F.avg_pool2d(mask, 31, stride: 1, padding: 15) - mask).abs());
        Tensor weitSum = weit.sum([2, 3]);
        Tensor total = Single(preds[0], mask, weit, weitSum);
        for (int i = 1; i < preds.Count; i++)
        {
            total = total + Single(preds[i], mask, weit, weitSum);
        }

        return total;
    }

    private static Tensor Single(Tensor pred, Tensor mask, Tensor weit, Tensor weitSum)
    {
        Tensor bce = F.binary_cross_entropy_with_logits(pred, mask, reduction: nn.Reduction.None);
        Tensor wbce = (weit * bce).sum([2, 3]) / weitSum;
        Tensor p = torch.sigmoid(pred);
        Tensor inter = (p * mask * weit).sum([2, 3]);
        Tensor union = ((p + mask) * weit).sum([2, 3]);
        Tensor wiou = 1 - ((inter + 1) / (union - inter + 1));
        return (wbce + wiou).mean();
    }
}
