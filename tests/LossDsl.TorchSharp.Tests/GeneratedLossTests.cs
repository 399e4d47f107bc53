using LossDsl.Tests;
using System;
using System.Collections.Generic;
using System.Linq;
using LossDsl.Losses;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LossDsl.TorchSharp.Tests;

/// <summary>A generated TorchSharp entry point under test: the default path (CPU kernel for CPU tensors) or the forced tensor-op path.</summary>
public delegate Tensor LossFn(Tensor pred, Tensor mask);

public static class Paths
{
    public static (LossFn Kernel, LossFn Ops) Of(string form, int kernel) => (form, kernel) switch
    {
        ("weighted", 31) => (StructureLoss.Compute, StructureLoss.TorchOps.Compute),
        ("pranet", 31) => (PraNetStructureLoss.Compute, PraNetStructureLoss.TorchOps.Compute),
        ("weighted", 3) => (WeightedK3.Compute, WeightedK3.TorchOps.Compute),
        ("pranet", 3) => (PraNetK3.Compute, PraNetK3.TorchOps.Compute),
        ("weighted", 5) => (WeightedK5.Compute, WeightedK5.TorchOps.Compute),
        ("pranet", 5) => (PraNetK5.Compute, PraNetK5.TorchOps.Compute),
        _ => throw new ArgumentException($"no test loss for {form} k={kernel}"),
    };

    public static Tensor Random(int seed, long[] shape, ScalarType dtype, double scale = 2.0, bool requiresGrad = false)
    {
        var rng = new Random(seed);
        long len = shape.Aggregate(1L, (a, b) => a * b);
        var data = new double[len];
        for (long i = 0; i < len; i++)
        {
            data[i] = scale * ((2 * rng.NextDouble()) - 1);
        }

        return torch.tensor(data, shape, dtype).requires_grad_(requiresGrad);
    }

    /// <summary>A blob-shaped mask with soft values at the border, so the boundary weight varies.</summary>
    public static Tensor Mask(int seed, long[] shape, ScalarType dtype)
    {
        var rng = new Random(seed);
        long n = shape[0] * shape[1], h = shape[2], w = shape[3];
        var data = new double[n * h * w];
        for (long p = 0; p < n; p++)
        {
            double cy = rng.NextDouble() * h, cx = rng.NextDouble() * w, r = (0.2 + (0.3 * rng.NextDouble())) * Math.Min(h, w);
            for (long y = 0; y < h; y++)
            {
                for (long x = 0; x < w; x++)
                {
                    double d = Math.Sqrt(((y - cy) * (y - cy)) + ((x - cx) * (x - cx)));
                    data[(p * h * w) + (y * w) + x] = d < r ? 1.0 : d < r + 1.5 ? 0.5 : 0.0;
                }
            }
        }

        return torch.tensor(data, shape, dtype);
    }

    public static double[] Values(Tensor t) => t.to(ScalarType.Float64).contiguous().data<double>().ToArray();

    /// <summary>|a − b| ≤ rtol·(|b| + max|b|·0.01) elementwise — relative, with a floor at 1% of the largest magnitude.</summary>
    public static void Close(double[] expected, double[] actual, double rtol, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        double scale = expected.Length == 0 ? 0 : expected.Max(Math.Abs);
        for (int i = 0; i < expected.Length; i++)
        {
            double tol = rtol * (Math.Abs(expected[i]) + (0.01 * scale) + 1e-300);
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tol, $"{what}[{i}]: expected {expected[i]:R}, got {actual[i]:R} (tol {tol:E2})");
        }
    }
}

public sealed class GeneratedLossTests
{
    public static IEnumerable<object[]> GoldenFiles() =>
        GoldenCase.Files().SelectMany(f => new[] { ScalarType.Float32, ScalarType.Float64 }.SelectMany(d =>
            new[] { false, true }.Select(ops => new object[] { System.IO.Path.GetFileName(f), d, ops })));

    [Theory]
    [MemberData(nameof(GoldenFiles))]
    public void MatchesPyTorchGoldenValueAndGradThroughBackward(string file, ScalarType dtype, bool tensorOps)
    {
        var c = GoldenCase.Load(file);
        Assert.True((c.Kernel, c.Gain) is (31, 5) or (5, 5) or (3, 2), $"no test loss declared for k={c.Kernel}, gain={c.Gain}");
        var (kernel, ops) = Paths.Of(c.Form, c.Kernel);
        var f = tensorOps ? ops : kernel;
        long[] shape = { c.N, c.C, c.H, c.W };
        using var scope = torch.NewDisposeScope();
        var pred = torch.tensor(c.Pred, shape, dtype).requires_grad_(true);
        var mask = torch.tensor(c.Mask, shape, dtype);
        var loss = f(pred, mask);
        Assert.Equal(0, loss.Dimensions);
        Assert.Equal(dtype, loss.dtype);
        loss.backward();
        double rtol = dtype == ScalarType.Float32 ? 1e-5 : 1e-9;
        Paths.Close(new[] { c.Loss }, new[] { loss.to(ScalarType.Float64).item<double>() }, rtol, "loss");
        Paths.Close(c.Grad, Paths.Values(pred.grad!), dtype == ScalarType.Float32 ? 2e-5 : 1e-9, "grad");
    }

    public static IEnumerable<object[]> PerPlaneGolden() =>
        new[] { "kernel5_n3_weighted.json", "kernel3_gain2_smooth05_n3_pranet.json" }.SelectMany(f =>
            new[] { false, true }.Select(ops => new object[] { f, ops }));

    [Theory]
    [MemberData(nameof(PerPlaneGolden))]
    public void ReductionNoneMatchesGoldenPlaneLosses(string file, bool tensorOps)
    {
        var c = GoldenCase.Load(file);
        LossFn f = (c.Form, tensorOps) switch
        {
            ("weighted", false) => WeightedK5PerPlane.Compute,
            ("weighted", true) => WeightedK5PerPlane.TorchOps.Compute,
            (_, false) => PraNetK3PerPlane.Compute,
            _ => PraNetK3PerPlane.TorchOps.Compute,
        };
        long[] shape = { c.N, c.C, c.H, c.W };
        using var scope = torch.NewDisposeScope();
        var planes = f(torch.tensor(c.Pred, shape, ScalarType.Float64), torch.tensor(c.Mask, shape, ScalarType.Float64));
        Assert.Equal(new long[] { c.N, c.C }, planes.shape);
        Paths.Close(c.PlaneLoss, Paths.Values(planes), 1e-9, "planeLoss");
    }

    [Theory]
    [InlineData("weighted", false)]
    [InlineData("weighted", true)]
    [InlineData("pranet", false)]
    [InlineData("pranet", true)]
    public void MatchesEagerTorchSharpOnTheSameInputs(string form, bool tensorOps)
    {
        using var scope = torch.NewDisposeScope();
        long[] shape = { 2, 2, 24, 31 };
        var pred = Paths.Random(1, shape, ScalarType.Float64, 3, requiresGrad: true);
        var mask = Paths.Mask(2, shape, ScalarType.Float64);
        var (kernel, ops) = Paths.Of(form, 31);
        var loss = (tensorOps ? ops : kernel)(pred, mask);
        loss.backward();
        var grad = Paths.Values(pred.grad!);

        var pred2 = pred.detach().clone().requires_grad_(true);
        var eager = form == "weighted" ? EagerStructureLoss.Weighted(pred2, mask) : EagerStructureLoss.PraNet(pred2, mask);
        eager.backward();
        Paths.Close(new[] { eager.item<double>() }, new[] { loss.item<double>() }, 1e-10, "loss");
        Paths.Close(Paths.Values(pred2.grad!), grad, 1e-9, "grad");
    }

    public static IEnumerable<object[]> AllLosses() => new[]
    {
        new object[] { "StructureLoss" }, new object[] { "PraNetStructureLoss" }, new object[] { "StructureLossAttributes" },
        new object[] { "DiceLoss" }, new object[] { "FocalDiceLoss" }, new object[] { "TverskyLoss" }, new object[] { "MixedOps" },
    };

    private static (LossFn Kernel, LossFn Ops) Named(string name) => name switch
    {
        "StructureLoss" => (StructureLoss.Compute, StructureLoss.TorchOps.Compute),
        "PraNetStructureLoss" => (PraNetStructureLoss.Compute, PraNetStructureLoss.TorchOps.Compute),
        "StructureLossAttributes" => (StructureLossAttributes.Compute, StructureLossAttributes.TorchOps.Compute),
        "DiceLoss" => (DiceLoss.Compute, DiceLoss.TorchOps.Compute),
        "FocalDiceLoss" => (FocalDiceLoss.Compute, FocalDiceLoss.TorchOps.Compute),
        "TverskyLoss" => (TverskyLoss.Compute, TverskyLoss.TorchOps.Compute),
        "MixedOps" => (MixedOps.Compute, MixedOps.TorchOps.Compute),
        _ => throw new ArgumentException(name),
    };

    [Theory]
    [MemberData(nameof(AllLosses))]
    public void TensorOpPathMatchesCpuKernelPath(string name)
    {
        var (kernel, ops) = Named(name);
        using var scope = torch.NewDisposeScope();
        long[] shape = { 3, 2, 19, 26 };
        var mask = Paths.Mask(4, shape, ScalarType.Float64);
        var p1 = Paths.Random(3, shape, ScalarType.Float64, 4, requiresGrad: true);
        var p2 = p1.detach().clone().requires_grad_(true);
        var a = kernel(p1, mask);
        var b = ops(p2, mask);
        a.backward();
        b.backward();
        Paths.Close(new[] { a.item<double>() }, new[] { b.item<double>() }, 1e-11, "loss");
        Paths.Close(Paths.Values(p1.grad!), Paths.Values(p2.grad!), 1e-10, "grad");
    }

    [Theory]
    [InlineData("StructureLoss", false)]
    [InlineData("StructureLoss", true)]
    [InlineData("PraNetStructureLoss", false)]
    [InlineData("MixedOps", false)]
    [InlineData("MixedOps", true)]
    public void Float64GradientMatchesFiniteDifferencesThroughAutograd(string name, bool tensorOps)
    {
        var (kernel, ops) = Named(name);
        var f = tensorOps ? ops : kernel;
        using var scope = torch.NewDisposeScope();
        long[] shape = { 2, 1, 12, 14 };
        var mask = Paths.Mask(6, shape, ScalarType.Float64);
        var pred = Paths.Random(5, shape, ScalarType.Float64, 2, requiresGrad: true);
        var grad = torch.autograd.grad(new[] { f(pred, mask) }, new[] { pred })[0];
        var g = Paths.Values(grad);
        var x = Paths.Values(pred);
        const double h = 1e-5;
        var rng = new Random(7);
        for (int k = 0; k < 12; k++)
        {
            int i = rng.Next(x.Length);
            double Eval(double d)
            {
                var xs = (double[])x.Clone();
                xs[i] += d;
                using var s = torch.NewDisposeScope();
                return f(torch.tensor(xs, shape, ScalarType.Float64), mask).item<double>();
            }

            double fd = (Eval(h) - Eval(-h)) / (2 * h);
            Assert.True(Math.Abs(fd - g[i]) <= 1e-7 * Math.Max(1e-3, Math.Abs(fd)) + 1e-10, $"pixel {i}: analytic {g[i]:R}, finite difference {fd:R}");
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ReductionNoneBackwardUsesTheUpstreamGradientPerPlane(bool tensorOps)
    {
        using var scope = torch.NewDisposeScope();
        long[] shape = { 3, 2, 15, 18 };
        var mask = Paths.Mask(8, shape, ScalarType.Float64);
        var pred = Paths.Random(9, shape, ScalarType.Float64, 3, requiresGrad: true);
        var w = torch.tensor(new double[] { 0.5, -1, 2, 0, 3, 1.25 }, new long[] { 3, 2 }, ScalarType.Float64);
        var planes = tensorOps ? WeightedK5PerPlane.TorchOps.Compute(pred, mask) : WeightedK5PerPlane.Compute(pred, mask);
        (planes * w).sum().backward();

        var pred2 = pred.detach().clone().requires_grad_(true);
        var eager = EagerStructureLoss.WeightedPlanes(pred2, mask, kernel: 5);
        (eager * w).sum().backward();
        Paths.Close(Paths.Values(eager), Paths.Values(planes), 1e-10, "planes");
        Paths.Close(Paths.Values(pred2.grad!), Paths.Values(pred.grad!), 1e-9, "grad");
    }

    [Theory]
    [InlineData(ScalarType.Float64, false)]
    [InlineData(ScalarType.Float64, true)]
    [InlineData(ScalarType.Float32, false)]
    public void DeepSupervisionEqualsTheSumOfSingleCallsAndReachesEverySideOutput(ScalarType dtype, bool tensorOps)
    {
        using var scope = torch.NewDisposeScope();
        long[] shape = { 2, 1, 33, 35 };
        double rtol = dtype == ScalarType.Float64 ? 1e-12 : 1e-5;
        for (int round = 0; round < 2; round++)
        {
            // Two rounds with different masks: the second call must not reuse the first call's target work.
            var mask = Paths.Mask(10 + round, shape, dtype);
            var preds = Enumerable.Range(0, 3).Select(i => Paths.Random(20 + i + round, shape, dtype, 3, requiresGrad: true)).ToList();
            var singles = preds.Select(p => p.detach().clone().requires_grad_(true)).ToList();
            var deep = tensorOps ? StructureLoss.TorchOps.Compute(preds, mask) : StructureLoss.Compute(preds, mask);
            deep.backward();
            double sum = 0;
            foreach (var s in singles)
            {
                var l = StructureLoss.Compute(s, mask);
                l.backward();
                sum += l.to(ScalarType.Float64).item<double>();
            }

            Paths.Close(new[] { sum }, new[] { deep.to(ScalarType.Float64).item<double>() }, rtol, "loss");
            for (int i = 0; i < preds.Count; i++)
            {
                Assert.NotNull(preds[i].grad);
                Paths.Close(Paths.Values(singles[i].grad!), Paths.Values(preds[i].grad!), rtol, $"grad of side output {i}");
            }
        }
    }

    [Fact]
    public void DeepSupervisionWithReductionNoneSumsPlanes()
    {
        using var scope = torch.NewDisposeScope();
        long[] shape = { 2, 2, 15, 18 };
        var mask = Paths.Mask(12, shape, ScalarType.Float64);
        var preds = Enumerable.Range(0, 2).Select(i => Paths.Random(30 + i, shape, ScalarType.Float64, 2, requiresGrad: true)).ToList();
        var deep = WeightedK5PerPlane.Compute(preds, mask);
        var expected = WeightedK5PerPlane.Compute(preds[0].detach(), mask) + WeightedK5PerPlane.Compute(preds[1].detach(), mask);
        Paths.Close(Paths.Values(expected), Paths.Values(deep), 1e-12, "planes");
        deep.sum().backward();
        Assert.All(preds, p => Assert.NotNull(p.grad));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void GradientsFlowToNetworkParameters(bool tensorOps)
    {
        using var scope = torch.NewDisposeScope();
        long[] shape = { 2, 1, 20, 20 };
        var x = Paths.Random(40, shape, ScalarType.Float64, 1);
        var mask = Paths.Mask(41, shape, ScalarType.Float64);
        torch.manual_seed(1);
        var conv = nn.Conv2d(1, 1, 3, padding: 1, dtype: ScalarType.Float64);
        var loss = tensorOps ? StructureLoss.TorchOps.Compute(conv.call(x), mask) : StructureLoss.Compute(conv.call(x), mask);
        loss.backward();
        var w1 = Paths.Values(conv.weight!.grad!);
        var b1 = Paths.Values(conv.bias!.grad!);
        conv.zero_grad();
        EagerStructureLoss.Weighted(conv.call(x), mask).backward();
        Paths.Close(Paths.Values(conv.weight!.grad!), w1, 1e-9, "weight grad");
        Paths.Close(Paths.Values(conv.bias!.grad!), b1, 1e-9, "bias grad");
        Assert.Contains(w1, v => v != 0);
    }

    [Fact]
    public void ModuleForwardsToCompute()
    {
        using var scope = torch.NewDisposeScope();
        long[] shape = { 1, 1, 16, 16 };
        var pred = Paths.Random(50, shape, ScalarType.Float32, 2);
        var mask = Paths.Mask(51, shape, ScalarType.Float32);
        using var module = new StructureLoss.Module();
        Assert.Equal(StructureLoss.Compute(pred, mask).item<float>(), module.call(pred, mask).item<float>());
    }

    [Fact]
    public void NonContiguousInputsAreCopiedAndGradientsReachTheView()
    {
        using var scope = torch.NewDisposeScope();
        long[] shape = { 2, 1, 14, 17 };
        var baseT = Paths.Random(52, new long[] { 2, 1, 17, 14 }, ScalarType.Float64, 2, requiresGrad: true);
        var view = baseT.transpose(2, 3);
        Assert.False(view.is_contiguous());
        var mask = Paths.Mask(53, shape, ScalarType.Float64);
        var loss = StructureLoss.Compute(view, mask);
        loss.backward();
        var dense = view.detach().contiguous().requires_grad_(true);
        var expected = StructureLoss.Compute(dense, mask);
        expected.backward();
        Assert.Equal(expected.item<double>(), loss.item<double>());
        Paths.Close(Paths.Values(dense.grad!), Paths.Values(baseT.grad!.transpose(2, 3)), 1e-14, "grad");
    }

    [Fact]
    public void UnderNoGradTheResultDoesNotRequireGrad()
    {
        using var scope = torch.NewDisposeScope();
        long[] shape = { 1, 1, 16, 16 };
        var pred = Paths.Random(54, shape, ScalarType.Float32, 2, requiresGrad: true);
        var mask = Paths.Mask(55, shape, ScalarType.Float32);
        Tensor loss;
        using (torch.no_grad())
        {
            loss = StructureLoss.Compute(pred, mask);
        }

        Assert.False(loss.requires_grad);
        Assert.True(StructureLoss.Compute(pred, mask).requires_grad);
    }

    public static IEnumerable<object[]> BadInputs()
    {
        long[] s = { 2, 1, 8, 8 };
        yield return new object[] { (Func<Tensor>)(() => torch.zeros(2, 8, 8)), (Func<Tensor>)(() => torch.zeros(s)), "pred" };
        yield return new object[] { (Func<Tensor>)(() => torch.zeros(s)), (Func<Tensor>)(() => torch.zeros(2, 1, 8, 9)), "mask" };
        yield return new object[] { (Func<Tensor>)(() => torch.zeros(s, ScalarType.Int32)), (Func<Tensor>)(() => torch.zeros(s, ScalarType.Int32)), "pred" };
        yield return new object[] { (Func<Tensor>)(() => torch.zeros(s, ScalarType.Float16)), (Func<Tensor>)(() => torch.zeros(s, ScalarType.Float16)), "pred" };
        yield return new object[] { (Func<Tensor>)(() => torch.zeros(s)), (Func<Tensor>)(() => torch.zeros(s, ScalarType.Float64)), "mask" };
        yield return new object[] { (Func<Tensor>)(() => torch.zeros(s)), (Func<Tensor>)(() => torch.zeros(s, requires_grad: true)), "mask" };
    }

    [Theory]
    [MemberData(nameof(BadInputs))]
    public void BadInputsThrowArgumentExceptionNamingTheArgument(Func<Tensor> pred, Func<Tensor> mask, string param)
    {
        using var scope = torch.NewDisposeScope();
        var p = pred();
        var m = mask();
        Assert.Equal(param, Assert.ThrowsAny<ArgumentException>(() => StructureLoss.Compute(p, m)).ParamName);
        Assert.Equal(param, Assert.ThrowsAny<ArgumentException>(() => StructureLoss.TorchOps.Compute(p, m)).ParamName);
    }

    [Fact]
    public void DeepSupervisionNamesTheBadSideOutput()
    {
        using var scope = torch.NewDisposeScope();
        long[] s = { 2, 1, 8, 8 };
        var mask = torch.zeros(s);
        var ex = Assert.ThrowsAny<ArgumentException>(() => StructureLoss.Compute(new[] { torch.zeros(s), torch.zeros(2, 8, 8) }, mask));
        Assert.Equal("preds[1]", ex.ParamName);
        ex = Assert.ThrowsAny<ArgumentException>(() => StructureLoss.TorchOps.Compute(new[] { torch.zeros(s), torch.zeros(s, ScalarType.Int64) }, mask));
        Assert.Equal("preds[1]", ex.ParamName);

        // A shape mismatch names the target (TensorBridge.ValidatePair's rule) and mentions the side output.
        ex = Assert.ThrowsAny<ArgumentException>(() => StructureLoss.Compute(new[] { torch.zeros(s), torch.zeros(2, 1, 8, 7) }, mask));
        Assert.Contains("preds[1]", ex.Message, StringComparison.Ordinal);
        Assert.Equal("preds", Assert.ThrowsAny<ArgumentException>(() => StructureLoss.Compute(Array.Empty<Tensor>(), mask)).ParamName);
    }
}

[CollectionDefinition(nameof(LeakCollection), DisableParallelization = true)]
public sealed class LeakCollection;

[Collection(nameof(LeakCollection))]
public sealed class GeneratedLossLeakTests
{
    public static IEnumerable<object[]> Cases() => new[]
    {
        new object[] { "single", false }, new object[] { "single", true }, new object[] { "deep", false }, new object[] { "deep", true },
        new object[] { "none", false }, new object[] { "none", true },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void ManyIterationsDoNotGrowTheLiveTensorCount(string kind, bool tensorOps)
    {
        long[] shape = { 2, 1, 24, 24 };
        using var outer = torch.NewDisposeScope();
        var mask = Paths.Mask(60, shape, ScalarType.Float32);
        void Step(int i)
        {
            using var scope = torch.NewDisposeScope();
            var pred = Paths.Random(i, shape, ScalarType.Float32, 2, requiresGrad: true);
            Tensor loss = (kind, tensorOps) switch
            {
                ("single", false) => StructureLoss.Compute(pred, mask),
                ("single", true) => StructureLoss.TorchOps.Compute(pred, mask),
                ("deep", false) => StructureLoss.Compute(new[] { pred, pred * 0.5 }, mask),
                ("deep", true) => StructureLoss.TorchOps.Compute(new[] { pred, pred * 0.5 }, mask),
                (_, false) => WeightedK5PerPlane.Compute(pred, mask).sum(),
                _ => WeightedK5PerPlane.TorchOps.Compute(pred, mask).sum(),
            };
            loss.backward();
            Assert.NotNull(pred.grad);
        }

        for (int i = 0; i < 5; i++)
        {
            Step(i);
        }

        long before = TensorBridge.LiveTensorCount();
        for (int i = 0; i < 60; i++)
        {
            Step(i);
        }

        long after = TensorBridge.LiveTensorCount();
        Assert.True(after <= before, $"live tensors grew from {before} to {after} over 60 iterations");
    }
}
