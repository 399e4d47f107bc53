using static LossDsl.Dsl;

namespace LossDsl.Cpu.Tests;

/// <summary>Exercises every pointwise op, both stencil extrema and per-plane math, for the reference comparison.</summary>
[Loss(Reduction = Reduction.Sum)]
public static partial class Kitchen
{
    [Term]
    private static Plane A(Logits x, Target t)
    {
        var edge = MaxPool(t, 3) - MinPool(t, 5);
        var p = Sigmoid(x);
        var y = Softplus(x) * (1 + edge) + Square(p - t) + Abs(x - t) * 0.1 + Clamp(x, -2, 2) * t;
        return Mean(y) + Sqrt(Sum(Exp(LogSigmoid(x)) * t) + 1) + Log(Sum(Max(p, t) + Min(x, 0.5)) + 100);
    }

    [Term(Weight = 0.25)]
    private static Batch B(Logits x, Target t) => BatchMean(Pow(Sigmoid(x) + 0.1, 1.5) / (t + 1));
}

/// <summary>Per-plane losses (Reduction.None).</summary>
[Loss(Reduction = Reduction.None), SoftDice(Smooth = 1)]
public static partial class DicePerPlane;

/// <summary>MONAI's <c>DiceLoss(sigmoid=True, batch=True)</c> for one channel: one Dice over the whole batch.</summary>
[Loss]
public static partial class BatchDice
{
    [Term]
    private static Batch Dice(Logits pred, Target mask)
    {
        var p = Sigmoid(pred);
        return 1 - (((2 * BatchSum(p * mask)) + 1e-5) / (BatchSum(p) + BatchSum(mask) + 1e-5));
    }
}

/// <summary>smp's binary focal Tversky loss (α 0.3, β 0.7, γ 4/3): whole-batch sums, math on the batch value, 0 without positives.</summary>
[Loss]
public static partial class FocalTversky
{
    [Term]
    private static Batch Tversky(Logits pred, Target mask)
    {
        var p = Sigmoid(pred);
        var tp = BatchSum(p * mask);
        var fp = BatchSum(p * (1 - mask));
        var fn = BatchSum((1 - p) * mask);
        // smp's rule: a batch without positives contributes 0.
        return Where(Greater(BatchSum(mask), 0), Pow(1 - (tp / (tp + (0.3 * fp) + (0.7 * fn))), 4.0 / 3.0), 0);
    }
}

/// <summary>Σ relu(pred)·mask per plane: PyTorch's relu gradient convention (0 at 0).</summary>
[Loss(Reduction = Reduction.Sum)]
public static partial class ReluSum
{
    [Term]
    private static Plane T(Logits pred, Target mask) => Sum(Relu(pred) * mask);
}

/// <summary>(logsumexp over channels, broadcast) · mask, mean over the batch: the channel reduction on its own.</summary>
[Loss]
public static partial class LogSumExpMean
{
    [Term]
    private static Batch T(Logits pred, Target mask) => BatchMean(LogSumExp(pred) * mask);
}

/// <summary>Softmax cross-entropy with one-hot (or probability) targets; an all-zero target row is an ignored pixel.</summary>
[Loss]
public static partial class SoftmaxCrossEntropy
{
    [Term]
    private static Batch Ce(Logits pred, Target mask) => BatchSum(-mask * LogSoftmax(pred)) / BatchSum(mask);
}

/// <summary>Per-class soft Dice over the whole batch (smp's <c>dims=(0, 2)</c>): one Dice per channel, the mean over channels.</summary>
[Loss]
public static partial class ClassDice
{
    [Term]
    private static Plane Dice(Logits pred, Target mask)
    {
        var p = Softmax(pred);
        return 1 - (((2 * ClassSum(p * mask)) + 1) / (ClassSum(p) + ClassSum(mask) + 1));
    }
}

/// <summary>
/// Per-plane Dice without the background channel plus cross-entropy, and a per-class term that shares the per-plane sums
/// (their adjoints meet: a plane value that reads a sum over images).
/// </summary>
[Loss]
public static partial class ForegroundDiceCe
{
    [Term(IncludeBackground = false)]
    private static Plane Dice(Logits pred, Target mask)
    {
        var p = Softmax(pred);
        return 1 - (((2 * Sum(p * mask)) + 1e-5) / (Sum(p) + Sum(mask) + 1e-5));
    }

    [Term(Weight = 0.5, IncludeBackground = false)]
    private static Plane ClassOverlap(Logits pred, Target mask) => ClassMean(Softmax(pred) * mask) / (Mean(Softmax(pred) * mask) + 1);

    [Term]
    private static Batch Ce(Logits pred, Target mask) => BatchSum(-mask * LogSoftmax(pred)) / BatchSum(mask);
}

/// <summary><see cref="ForegroundDiceCe"/>'s Dice term alone under <see cref="Reduction.Sum"/>: the background planes add nothing.</summary>
[Loss(Reduction = Reduction.Sum)]
public static partial class ForegroundDiceSum
{
    [Term(IncludeBackground = false)]
    private static Plane Dice(Logits pred, Target mask)
    {
        var p = Sigmoid(pred);
        return 1 - (((2 * ClassSum(p * mask)) + 1) / (ClassSum(p) + ClassSum(mask) + 1));
    }
}
