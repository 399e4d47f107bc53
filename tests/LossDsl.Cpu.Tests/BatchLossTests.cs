using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using LossDsl.Tests;
using Xunit;

namespace LossDsl.Cpu.Tests;

/// <summary>
/// Whole-batch sums and math on batch values against PyTorch (tests/golden/batch, made by
/// tests/golden/make_batch_golden.py from MONAI's and smp's formulas), and the derived gradients against finite differences.
/// </summary>
public class BatchLossTests
{
    private delegate double Loss64(ReadOnlySpan<double> pred, ReadOnlySpan<double> mask, Span<double> grad, LossShape shape);

    private delegate float Loss32(ReadOnlySpan<float> pred, ReadOnlySpan<float> mask, Span<float> grad, LossShape shape);

    private static (Loss32, Loss64, Func<Logits, Target, double>) Pick(string file) =>
        file.StartsWith("monai_batch_dice", StringComparison.Ordinal)
            ? (BatchDice.Cpu.Compute, BatchDice.Cpu.Compute, BatchDice.Reference.Compute)
            : (FocalTversky.Cpu.Compute, FocalTversky.Cpu.Compute, FocalTversky.Reference.Compute);

    public static TheoryData<string> Files()
    {
        var data = new TheoryData<string>();
        foreach (var f in Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "golden", "batch"), "*.json").Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetFileName(f));
        }

        return data;
    }

    [Fact]
    public void GoldenFilesArePresent() => Assert.Equal(5, Files().Count);

    [Theory]
    [MemberData(nameof(Files))]
    public void MatchesPyTorch(string file)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "golden", "batch", file)));
        var root = doc.RootElement;
        int[] dims = root.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        var shape = new LossShape(dims[0], dims[1], dims[2], dims[3]);
        double[] Read(string name) => root.GetProperty(name).EnumerateArray().Select(e => e.GetDouble()).ToArray();
        var (pred, mask, grad) = (Read("pred"), Read("mask"), Read("grad"));
        double expected = root.GetProperty("loss").GetDouble();
        var (f32, f64, reference) = Pick(file);
        double scale = grad.Max(Math.Abs);

        var g64 = new double[shape.Length];
        Assert.InRange(Math.Abs(f64(pred, mask, g64, shape) - expected), 0, 1e-10 * Math.Abs(expected));
        Assert.InRange(g64.Zip(grad, (a, b) => Math.Abs(a - b)).Max(), 0, 1e-10 * scale);
        Assert.InRange(Math.Abs(reference(new Logits(shape, pred), new Target(shape, mask)) - expected), 0, 1e-12 * Math.Abs(expected));

        var g32 = new float[shape.Length];
        float loss32 = f32(Inputs.ToFloat(pred), Inputs.ToFloat(mask), g32, shape);
        Assert.InRange(Math.Abs(loss32 - expected), 0, 1e-5 * Math.Abs(expected));
        Assert.InRange(g32.Zip(grad, (a, b) => Math.Abs(a - b)).Max(), 0, 1e-5 * scale);
    }
}
