using System;
using System.Linq;
using Xunit;

namespace LossDsl.Cpu.Tests;

/// <summary>
/// N×C×D×H×W volumes: window filters across slices as well as within them (box and both extrema), pointwise math and
/// reductions over D·H·W — the CPU backend against the reference interpreter and finite differences in double. The PyTorch
/// goldens of volumes (avg_pool3d structure loss, nnU-Net's Dice + CE on a patch batch) run in the TorchSharp and ILGPU tests.
/// </summary>
public class VolumeTests
{
    [Theory]
    [InlineData(2, 2, 5, 7, 6)]
    [InlineData(1, 3, 2, 9, 4)]
    [InlineData(2, 1, 9, 3, 3)]
    public void KitchenMatchesTheReferenceAndFiniteDifferences(int n, int c, int d, int h, int w)
    {
        var shape = new LossShape(n, c, d, h, w);
        var (pred, mask) = Inputs.Random(shape, 40 + d, softMask: true, scale: 3);
        var g = new double[shape.Length];
        double value = Kitchen.Cpu.Compute(pred, mask, g, shape);
        double expected = Kitchen.Reference.Compute(new Logits(shape, pred), new Target(shape, mask));
        Assert.InRange(Math.Abs(value - expected), 0, 1e-12 * Math.Max(1, Math.Abs(expected)));

        const double eps = 1e-6;
        double scale = Math.Max(1e-3, g.Max(Math.Abs));
        foreach (int i in Enumerable.Range(0, 30).Select(k => (int)((long)k * 7919 % shape.Length)))
        {
            var plus = (double[])pred.Clone();
            var minus = (double[])pred.Clone();
            plus[i] += eps;
            minus[i] -= eps;
            double fd = (Kitchen.Cpu.Compute(plus, mask, Span<double>.Empty, shape) - Kitchen.Cpu.Compute(minus, mask, Span<double>.Empty, shape)) / (2 * eps);
            Assert.InRange(Math.Abs(fd - g[i]), 0, 1e-6 * scale);
        }

        float v32 = Kitchen.Cpu.Compute(Inputs.ToFloat(pred), Inputs.ToFloat(mask), Span<float>.Empty, shape);
        Assert.InRange(Math.Abs(v32 - expected), 0, 1e-5 * Math.Max(1, Math.Abs(expected)));
    }

    /// <summary>A volume of one slice is an image: the same loss and gradient as the N×C×H×W shape.</summary>
    [Fact]
    public void OneSliceIsAnImage()
    {
        var image = new LossShape(2, 2, 9, 8);
        var volume = new LossShape(2, 2, 1, 9, 8);
        var (pred, mask) = Inputs.Random(image, 7, softMask: true, scale: 3);
        var g1 = new double[image.Length];
        var g2 = new double[image.Length];
        Assert.Equal(Kitchen.Cpu.Compute(pred, mask, g1, image), Kitchen.Cpu.Compute(pred, mask, g2, volume));
        Assert.Equal(g1, g2);
    }

    /// <summary>The box filter of a volume of ones: 1 inside, (r + 1)³ / k³ in a corner (zeros outside, divisor k³).</summary>
    [Fact]
    public unsafe void TheBoxOfAVolumeCountsThePaddingAsZeros()
    {
        int d = 7, h = 8, w = 9, k = 5;
        var src = Enumerable.Repeat(1.0, d * h * w).ToArray();
        var dst = new double[src.Length];
        fixed (double* s = src, t = dst)
        {
            Cpu.Stencils.BoxFilter(s, t, d, h, w, k);
        }

        Assert.Equal(27.0 / 125, dst[0], 12);
        Assert.Equal(1.0, dst[(3 * h * w) + (4 * w) + 4], 12);
        Assert.Equal(3.0 * 5 * 5 / 125, dst[(0 * h * w) + (4 * w) + 4], 12);
    }
}
