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
