using static LossDsl.Dsl;

namespace LossDsl.Cpu.Tests;

// The structure loss with the parameters of each golden case, in both forms (see tests/golden/README.md).

[Loss]
public static partial class Structure31
{
    [Term]
    private static Plane Bce(Logits pred, Target mask) => Prelude.WeightedBce(pred, mask, Prelude.BoundaryWeight(mask, 31, 5));

    [Term]
    private static Plane IoU(Logits pred, Target mask) => Prelude.WeightedIoU(pred, mask, Prelude.BoundaryWeight(mask, 31, 5), 1);
}

[Loss]
public static partial class PraNet31
{
    [Term]
    private static Batch Bce(Logits pred, Target mask) => BatchMean(BceWithLogits(pred, mask));

    [Term]
    private static Plane IoU(Logits pred, Target mask) => Prelude.WeightedIoU(pred, mask, Prelude.BoundaryWeight(mask, 31, 5), 1);
}

[Loss, BoundaryWeight(Kernel = 3, Gain = 2), WeightedBce, WeightedIoU(Smooth = 0.5)]
public static partial class Structure3;

[Loss]
public static partial class PraNet3
{
    [Term]
    private static Batch Bce(Logits pred, Target mask) => BatchMean(BceWithLogits(pred, mask));

    [Term]
    private static Plane IoU(Logits pred, Target mask) => Prelude.WeightedIoU(pred, mask, Prelude.BoundaryWeight(mask, 3, 2), 0.5);
}

[Loss, BoundaryWeight(Kernel = 5, Gain = 5), WeightedBce, WeightedIoU(Smooth = 1)]
public static partial class Structure5;

[Loss]
public static partial class PraNet5
{
    [Term]
    private static Batch Bce(Logits pred, Target mask) => BatchMean(BceWithLogits(pred, mask));

    [Term]
    private static Plane IoU(Logits pred, Target mask) => Prelude.WeightedIoU(pred, mask, Prelude.BoundaryWeight(mask, 5, 5), 1);
}

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
