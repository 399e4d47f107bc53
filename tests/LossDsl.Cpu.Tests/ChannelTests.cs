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
        GradientCheck.Run(f32, f64, reference, pred, mask, shape);
    }
}
