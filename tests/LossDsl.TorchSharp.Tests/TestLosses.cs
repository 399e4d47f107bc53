using static LossDsl.Dsl;

namespace LossDsl.TorchSharp.Tests;

// Losses declared in the test project itself (the generator runs here too), for Reduction.None and the ops the
// structure loss does not use; the golden cases' parameter sets are in tests/Shared/GoldenLosses.cs.

/// <summary>The weighted structure loss per plane (Reduction.None), k = 5.</summary>
[Loss(Reduction = Reduction.None), BoundaryWeight(Kernel = 5, Gain = 5), WeightedBce, WeightedIoU(Smooth = 1)]
public static partial class WeightedK5PerPlane;

/// <summary>The PraNet form per plane (Reduction.None, a batch term broadcast to planes), k = 3.</summary>
[Loss(Reduction = Reduction.None)]
public static partial class PraNetK3PerPlane
{
    [Term]
    private static Batch Bce(Logits pred, Target mask) => BatchMean(BceWithLogits(pred, mask));

    [Term]
    private static Plane IoU(Logits pred, Target mask) => Prelude.WeightedIoU(pred, mask, Prelude.BoundaryWeight(mask, 3, 2), 0.5);
}

/// <summary>Exercises max/min pooling, clamp, min/max, pow and softplus on both TorchSharp paths (Reduction.Sum).</summary>
[Loss(Reduction = Reduction.Sum)]
public static partial class MixedOps
{
    [Term]
    private static Plane Pools(Logits pred, Target mask)
    {
        var edge = MaxPool(mask, 3) - MinPool(mask, 5);
        var p = Clamp(Sigmoid(pred), 0.05, 0.95);
        return Mean(Square(p - mask) * (1 + edge));
    }

    [Term(Weight = 0.5)]
    private static Plane Smooth(Logits pred, Target mask) => Mean(Softplus(Min(pred, 2.0)) + Pow(Max(Sigmoid(pred), mask), 1.5));
}

/// <summary>The channel reduction on its own on both TorchSharp paths: <c>(torch.logsumexp(x, 1, keepdim=True) * t).mean()</c>.</summary>
[Loss]
public static partial class ChannelLogSumExp
{
    [Term]
    private static Batch T(Logits pred, Target target) => BatchMean(LogSumExp(pred) * target);
}

/// <summary>The structure loss with a 7 window, for volumes whose window fits inside them (a 7×7×7 box on N×C×D×H×W).</summary>
[Loss]
public static partial class StructureLoss7
{
    private static Field Weight(Target mask) => 1 + (5 * Abs(AvgPool(mask, 7) - mask));

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
