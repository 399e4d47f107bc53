using System;
using System.Linq;
using Xunit;

namespace LossDsl.Cpu.Tests;

/// <summary>
/// Reductions over the channels of a pixel (LogSumExp, Softmax, LogSoftmax, SumOverChannels): the CPU backend against the
/// reference interpreter at C = 1…5 and odd sizes, and its gradient against central finite differences in double.
/// </summary>
public class ChannelTests
{
    private delegate double Loss64(ReadOnlySpan<double> pred, ReadOnlySpan<double> mask, Span<double> grad, LossShape shape);

    private delegate float Loss32(ReadOnlySpan<float> pred, ReadOnlySpan<float> mask, Span<float> grad, LossShape shape);

    private static (Loss32, Loss64, Func<Logits, Target, double>) Pick(string name) => name switch
    {
        "lse" => (LogSumExpMean.Cpu.Compute, LogSumExpMean.Cpu.Compute, LogSumExpMean.Reference.Compute),
        _ => (SoftmaxCrossEntropy.Cpu.Compute, SoftmaxCrossEntropy.Cpu.Compute, SoftmaxCrossEntropy.Reference.Compute),
    };

    /// <summary>One-hot targets of random labels; every seventh pixel is ignored (an all-zero row).</summary>
    internal static double[] OneHot(LossShape s, int seed, bool ignore = true)
    {
        var rng = new Random(seed);
        var t = new double[s.Length];
        for (int n = 0; n < s.N; n++)
        {
            for (int i = 0; i < s.PlaneSize; i++)
            {
                if (ignore && rng.Next(7) == 0)
                {
                    continue;
                }

                int c = rng.Next(s.C);
                t[(((n * s.C) + c) * s.PlaneSize) + i] = 1;
            }
        }

        return t;
    }

    [Theory]
    [InlineData("lse", 1, 1, 5, 7)]
    [InlineData("lse", 2, 3, 9, 13)]
    [InlineData("lse", 3, 5, 17, 16)]
    [InlineData("ce", 2, 2, 9, 13)]
    [InlineData("ce", 2, 3, 33, 21)]
    [InlineData("ce", 1, 5, 17, 16)]
    public void MatchesTheReferenceAndFiniteDifferences(string loss, int n, int c, int h, int w)
    {
        var shape = new LossShape(n, c, h, w);
        var (pred, soft) = Inputs.Random(shape, 11 + c, softMask: true, scale: 4);
        var mask = loss == "lse" ? soft : OneHot(shape, 5 + c);
        var (f32, f64, reference) = Pick(loss);

        var g = new double[shape.Length];
        double value = f64(pred, mask, g, shape);
        double expected = reference(new Logits(shape, pred), new Target(shape, mask));
        Assert.InRange(Math.Abs(value - expected), 0, 1e-12 * Math.Max(1, Math.Abs(expected)));

        const double eps = 1e-6;
        double scale = Math.Max(1e-3, g.Max(Math.Abs));
        foreach (int i in Enumerable.Range(0, 40).Select(k => (int)((long)k * 7919 % shape.Length)))
        {
            var plus = (double[])pred.Clone();
            var minus = (double[])pred.Clone();
            plus[i] += eps;
            minus[i] -= eps;
            double fd = (f64(plus, mask, Span<double>.Empty, shape) - f64(minus, mask, Span<double>.Empty, shape)) / (2 * eps);
            Assert.InRange(Math.Abs(fd - g[i]), 0, 1e-6 * scale);
        }

        var g32 = new float[shape.Length];
        float v32 = f32(Inputs.ToFloat(pred), Inputs.ToFloat(mask), g32, shape);
        Assert.InRange(Math.Abs(v32 - expected), 0, 1e-5 * Math.Max(1, Math.Abs(expected)));
        Assert.InRange(g32.Zip(g, (a, b) => Math.Abs(a - b)).Max(), 0, 1e-5 * scale);
    }
}
