using static LossDsl.Dsl;

namespace LossDsl.Ilgpu.Tests;

/// <summary>
/// Every pointwise op of the vocabulary per pixel, the plane-level math in the plane epilogue, both extremum stencils and a
/// box filter, so that the PTX compilation test reaches every device-math function the generated kernels can call.
/// </summary>
[Loss(Reduction = Reduction.Sum)]
public static partial class EveryOpForPtx
{
    [Term]
    private static Plane Pixels(Logits x, Target t)
    {
        var edge = MaxPool(t, 3) - MinPool(t, 5) + AvgPool(t, 7);
        var p = Sigmoid(x);
        var a = Softplus(x) * (1 + edge) + Square(p - t) + Abs(x - t) * 0.1 + Clamp(x, -2, 2) * t + LogSigmoid(x) * t;
        var b = Exp(0.5 * Tanh(x)) + Log(1 + Square(x)) + Log1p(Square(p)) + Sqrt(1 + Square(x)) + Pow(1 + Square(x), 1.5);
        var c = Max(p, t) + Min(x, 0.5) + Max(x, 0.25) + (x / (2 + t)) - (-(x * t)) + BceWithLogits(x, t);
        return Mean(a + b + c);
    }

    [Term(Weight = 0.5)]
    private static Plane Planes(Logits x, Target t)
    {
        var s = Mean(Sigmoid(x) * t) + 1;
        return Sqrt(s) + Log(s) + Exp(-s) + Pow(s, 1.5) + Square(s) + Abs(s - 1.5) + Sigmoid(s) + Clamp(s, 1.1, 1.9);
    }

    [Term(Weight = 0.25)]
    private static Batch Whole(Logits x, Target t) => BatchMean(Pow(Sigmoid(x) + 0.1, 1.5) / (t + 1));
}
