using System;
using System.Linq;
using Xunit;

namespace LossDsl.Cpu.Tests;

/// <summary>
/// Per-class reductions over the whole batch (<c>ClassSum</c>, <c>ClassMean</c>) and terms without the background channel
/// (<c>[Term(IncludeBackground = false)]</c>): the CPU backend against the reference interpreter and a direct formula, at
/// C = 1…5 and odd sizes, and its gradient against central finite differences in double.
/// </summary>
public class ClassReductionTests
{
    private static (Loss32, Loss64, Func<Logits, Target, double>) Pick(string name) => name switch
    {
        "class" => (ClassDice.Cpu.Compute, ClassDice.Cpu.Compute, ClassDice.Reference.Compute),
        "fg" => (ForegroundDiceCe.Cpu.Compute, ForegroundDiceCe.Cpu.Compute, ForegroundDiceCe.Reference.Compute),
        _ => (ForegroundDiceSum.Cpu.Compute, ForegroundDiceSum.Cpu.Compute, ForegroundDiceSum.Reference.Compute),
    };

    [Theory]
    [InlineData("class", 1, 1, 5, 7)]
    [InlineData("class", 2, 3, 9, 13)]
    [InlineData("class", 3, 5, 17, 16)]
    [InlineData("fg", 1, 1, 7, 5)]
    [InlineData("fg", 2, 2, 9, 13)]
    [InlineData("fg", 3, 4, 11, 10)]
    [InlineData("fgsum", 1, 1, 6, 6)]
    [InlineData("fgsum", 2, 3, 9, 7)]
    [InlineData("fgsum", 4, 5, 5, 9)]
    public void MatchesTheReferenceAndFiniteDifferences(string loss, int n, int c, int h, int w)
    {
        var shape = new LossShape(n, c, h, w);
        var (pred, _) = Inputs.Random(shape, 3 + c, softMask: true, scale: 4);
        var mask = ChannelTests.OneHot(shape, 9 + c);
        var (f32, f64, reference) = Pick(loss);
        GradientCheck.Run(f32, f64, reference, pred, mask, shape);
    }

    /// <summary>The per-class Dice written out directly: softmax per pixel, one Dice per channel over the batch, their mean.</summary>
    [Theory]
    [InlineData(2, 3, 9, 13)]
    [InlineData(3, 4, 8, 5)]
    public void ClassDiceIsTheMeanOverChannelsOfOneDicePerChannel(int n, int c, int h, int w)
    {
        var shape = new LossShape(n, c, h, w);
        var (pred, _) = Inputs.Random(shape, 21, softMask: true, scale: 3);
        var mask = ChannelTests.OneHot(shape, 22);
        var p = Softmax(pred, shape);
        double total = 0;
        for (int ch = 0; ch < c; ch++)
        {
            double inter = 0, sp = 0, st = 0;
            for (int img = 0; img < n; img++)
            {
                for (int i = 0; i < shape.PlaneSize; i++)
                {
                    int at = (((img * c) + ch) * shape.PlaneSize) + i;
                    inter += p[at] * mask[at];
                    sp += p[at];
                    st += mask[at];
                }
            }

            total += 1 - (((2 * inter) + 1) / (sp + st + 1));
        }

        double value = ClassDice.Cpu.Compute(pred, mask, Span<double>.Empty, shape);
        Assert.InRange(Math.Abs(value - (total / c)), 0, 1e-12);
    }

    /// <summary>Without the background channel the mean is over the other channels: changing channel 0 alone changes nothing.</summary>
    [Fact]
    public void TheBackgroundChannelDoesNotReachAForegroundOnlyTerm()
    {
        var shape = new LossShape(2, 3, 7, 9);
        var (pred, _) = Inputs.Random(shape, 31, softMask: true, scale: 3);
        var mask = ChannelTests.OneHot(shape, 32, ignore: false);
        var other = (double[])mask.Clone();
        for (int img = 0; img < shape.N; img++)
        {
            // Move the background pixels' label to channel 0's plane only where it was already background: flip channel 0
            // of the target at a few pixels (the foreground channels and the logits are unchanged).
            for (int i = 0; i < shape.PlaneSize; i += 3)
            {
                other[(img * shape.C * shape.PlaneSize) + i] = 1 - other[(img * shape.C * shape.PlaneSize) + i];
            }
        }

        double a = ForegroundDiceSum.Cpu.Compute(pred, mask, Span<double>.Empty, shape);
        double b = ForegroundDiceSum.Cpu.Compute(pred, other, Span<double>.Empty, shape);
        Assert.Equal(a, b);

        // The same loss with one channel keeps it (nothing to leave out).
        var one = new LossShape(2, 1, 7, 9);
        var (p1, m1) = Inputs.Random(one, 33, softMask: true, scale: 3);
        Assert.NotEqual(0, ForegroundDiceSum.Cpu.Compute(p1, m1, Span<double>.Empty, one));
    }

    private static double[] Softmax(double[] x, LossShape s)
    {
        var r = new double[x.Length];
        for (int img = 0; img < s.N; img++)
        {
            for (int i = 0; i < s.PlaneSize; i++)
            {
                double max = double.NegativeInfinity;
                for (int ch = 0; ch < s.C; ch++)
                {
                    max = Math.Max(max, x[(((img * s.C) + ch) * s.PlaneSize) + i]);
                }

                double sum = 0;
                for (int ch = 0; ch < s.C; ch++)
                {
                    sum += Math.Exp(x[(((img * s.C) + ch) * s.PlaneSize) + i] - max);
                }

                for (int ch = 0; ch < s.C; ch++)
                {
                    int at = (((img * s.C) + ch) * s.PlaneSize) + i;
                    r[at] = Math.Exp(x[at] - max) / sum;
                }
            }
        }

        return r;
    }
}
