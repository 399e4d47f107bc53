using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using LossDsl.Tests;
using Xunit;

namespace LossDsl.Cpu.Tests;

/// <summary>The generated CPU backend against PyTorch (tests/golden, made by tests/golden/make_golden.py).</summary>
public class GoldenTests
{
    public delegate double Loss64(ReadOnlySpan<double> pred, ReadOnlySpan<double> mask, Span<double> grad, Span<double> planes, LossShape shape);

    public delegate float Loss32(ReadOnlySpan<float> pred, ReadOnlySpan<float> mask, Span<float> grad, Span<float> planes, LossShape shape);

    public static IEnumerable<object[]> Cases() => GoldenCase.Files().Select(f => new object[] { Path.GetFileName(f) });

    private static (Loss32, Loss64) Pick(GoldenCase c) => (c.Kernel, c.Form) switch
    {
        (31, "weighted") => (WeightedK31.Cpu.Compute, WeightedK31.Cpu.Compute),
        (31, "pranet") => (PraNetK31.Cpu.Compute, PraNetK31.Cpu.Compute),
        (3, "weighted") => (WeightedK3.Cpu.Compute, WeightedK3.Cpu.Compute),
        (3, "pranet") => (PraNetK3.Cpu.Compute, PraNetK3.Cpu.Compute),
        (5, "weighted") => (WeightedK5.Cpu.Compute, WeightedK5.Cpu.Compute),
        (5, "pranet") => (PraNetK5.Cpu.Compute, PraNetK5.Cpu.Compute),
        _ => throw new InvalidDataException($"no test loss for kernel {c.Kernel}, form {c.Form}"),
    };

    [Fact]
    public void GoldenFilesArePresent() => Assert.True(GoldenCase.Files().Count() >= 18, "tests/golden/cases should be copied next to the tests");

    [Theory]
    [MemberData(nameof(Cases))]
    public void Float32MatchesPyTorch(string file)
    {
        var c = GoldenCase.Load(file);
        Assert.True(c.Gain == (c.Kernel == 3 ? 2 : 5) && c.Smooth == (c.Kernel == 3 ? 0.5 : 1), "test loss parameters must match the case");
        var shape = new LossShape(c.N, c.C, c.H, c.W);
        var (f32, _) = Pick(c);
        var grad = new float[shape.Length];
        var planes = new float[shape.Planes];
        float loss = f32(Inputs.ToFloat(c.Pred), Inputs.ToFloat(c.Mask), grad, planes, shape);

        Assert.InRange(Math.Abs(loss - c.Loss), 0, 1e-5 * Math.Abs(c.Loss));
        for (int p = 0; p < planes.Length; p++)
        {
            Assert.InRange(Math.Abs(planes[p] - c.PlaneLoss[p]), 0, 1e-5 * Math.Abs(c.PlaneLoss[p]));
        }

        AssertClose(c.Grad, Array.ConvertAll(grad, v => (double)v), 1e-5);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Float64MatchesPyTorch(string file)
    {
        var c = GoldenCase.Load(file);
        var shape = new LossShape(c.N, c.C, c.H, c.W);
        var (_, f64) = Pick(c);
        var grad = new double[shape.Length];
        var planes = new double[shape.Planes];
        double loss = f64(c.Pred, c.Mask, grad, planes, shape);

        Assert.InRange(Math.Abs(loss - c.Loss), 0, 1e-10 * Math.Abs(c.Loss));
        for (int p = 0; p < planes.Length; p++)
        {
            Assert.InRange(Math.Abs(planes[p] - c.PlaneLoss[p]), 0, 1e-10 * Math.Abs(c.PlaneLoss[p]));
        }

        AssertClose(c.Grad, grad, 1e-10);
    }

    /// <summary>Every element within <paramref name="rel"/> of the largest gradient magnitude (gradients of tiny elements are not compared relatively).</summary>
    internal static void AssertClose(double[] expected, double[] actual, double rel)
    {
        Assert.Equal(expected.Length, actual.Length);
        double scale = expected.Max(Math.Abs);
        for (int i = 0; i < expected.Length; i++)
        {
            double err = Math.Abs(expected[i] - actual[i]);
            Assert.True(err <= (rel * scale) + 1e-30, $"element {i}: expected {expected[i]:R}, got {actual[i]:R} (|err| {err:E2} > {rel:E0}·{scale:E3})");
        }
    }
}
