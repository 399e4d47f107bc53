using LossDsl.Tests;
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LossDsl.TorchSharp.Tests;

/// <summary>
/// The eager TorchSharp translation of the structure loss agrees with the PyTorch golden files:
/// this checks both the golden files and the translation that other tests compare against.
/// </summary>
public class GoldenEagerTests
{
    public static IEnumerable<object[]> Cases() => GoldenCase.Files().Select(f => new object[] { Path.GetFileName(f) });

    [Fact]
    public void GoldenCasesAreCopiedToTheOutput()
    {
        var files = GoldenCase.Files().ToList();
        Assert.True(files.Count >= 18, $"expected the 18 golden cases in {GoldenCase.Directory}, found {files.Count}");
        Assert.Contains(files, f => f.EndsWith("_weighted.json", StringComparison.Ordinal));
        Assert.Contains(files, f => f.EndsWith("_pranet.json", StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void EagerLossAndGradientMatchGolden(string file)
    {
        var g = GoldenCase.Load(file);
        using var scope = torch.NewDisposeScope();
        long[] dims = { g.N, g.C, g.H, g.W };
        var pred = torch.tensor(g.Pred, dtype: ScalarType.Float64).reshape(dims).detach().requires_grad_(true);
        var mask = torch.tensor(g.Mask, dtype: ScalarType.Float64).reshape(dims);

        Tensor planes = g.Form switch
        {
            "weighted" => EagerStructureLoss.WeightedPlanes(pred, mask, g.Kernel, g.Gain, g.Smooth),
            "pranet" => EagerStructureLoss.PraNetPlanes(pred, mask, g.Kernel, g.Gain, g.Smooth),
            _ => throw new InvalidDataException($"{file}: unknown form '{g.Form}'"),
        };
        Assert.Equal(new long[] { g.N, g.C }, planes.shape);
        var loss = planes.mean();
        loss.backward();

        double value = loss.item<double>();
        AssertRel(g.Loss, value, 1e-10, "loss");

        // The public one-call forms give the same value.
        using (torch.no_grad())
        {
            var direct = g.Form == "weighted"
                ? EagerStructureLoss.Weighted(pred, mask, g.Kernel, g.Gain, g.Smooth)
                : EagerStructureLoss.PraNet(pred, mask, g.Kernel, g.Gain, g.Smooth);
            AssertRel(g.Loss, direct.item<double>(), 1e-10, "loss (one-call form)");
        }

        double[] planeLoss = planes.detach().data<double>().ToArray();
        for (int i = 0; i < planeLoss.Length; i++)
        {
            AssertRel(g.PlaneLoss[i], planeLoss[i], 1e-10, $"planeLoss[{i}]");
        }

        Assert.NotNull(pred.grad);
        double[] grad = pred.grad!.data<double>().ToArray();
        double maxAbs = g.Grad.Max(Math.Abs);
        double tol = 1e-10 * maxAbs + 1e-12;
        for (int i = 0; i < grad.Length; i++)
        {
            double err = Math.Abs(grad[i] - g.Grad[i]);
            Assert.True(err <= tol, $"{g.Name}: grad[{i}] = {grad[i]:R}, golden {g.Grad[i]:R}, |err| {err:E3} > {tol:E3}");
        }
    }

    static void AssertRel(double expected, double actual, double rel, string what)
    {
        Assert.True(double.IsFinite(actual), $"{what} = {actual}");
        double err = Math.Abs(actual - expected);
        Assert.True(err <= rel * Math.Abs(expected) + 1e-300,
            $"{what} = {actual:R}, golden {expected:R}, relative error {err / Math.Abs(expected):E3} > {rel:E1}");
    }
}
