using System;
using System.Linq;
using Xunit;

namespace LossDsl.Cpu.Tests;

/// <summary>A generated CPU loss of (pred, mask) in double.</summary>
public delegate double Loss64(ReadOnlySpan<double> pred, ReadOnlySpan<double> mask, Span<double> grad, LossShape shape);

/// <summary>A generated CPU loss of (pred, mask) in float.</summary>
public delegate float Loss32(ReadOnlySpan<float> pred, ReadOnlySpan<float> mask, Span<float> grad, LossShape shape);

/// <summary>The checks every two-input CPU loss gets: the reference interpreter, central differences in double, and float32.</summary>
internal static class GradientCheck
{
    public static void Run(Loss32 f32, Loss64 f64, Func<Logits, Target, double> reference, double[] pred, double[] mask, LossShape shape)
    {
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
