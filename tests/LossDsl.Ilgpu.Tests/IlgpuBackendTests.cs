using LossDsl.Tests;
using System;
using System.Linq;
using System.Runtime.InteropServices;
using ILGPU;
using ILGPU.Runtime;
using LossDsl.Losses;
using Xunit;

namespace LossDsl.Ilgpu.Tests;

/// <summary>The generated ILGPU backends on the CPU accelerator against the generated CPU backend and PyTorch's golden files.</summary>
[Collection(IlgpuCollection.Name)]
public sealed class IlgpuBackendTests(AcceleratorFixture fixture)
{
    private readonly Accelerator _acc = fixture.Accelerator;

    public static TheoryData<string> GoldenFiles()
    {
        var data = new TheoryData<string>();
        foreach (var f in GoldenCase.Files().Where(f => GoldenCase.Load(f).MatchesReadyMadeLosses))
        {
            data.Add(f);
        }

        return data;
    }

    public static TheoryData<string> LossNames()
    {
        var data = new TheoryData<string>();
        foreach (var n in Losses.Names)
        {
            data.Add(n);
        }

        return data;
    }

    [Fact]
    public void GoldenCasesArePresent() => Assert.True(GoldenFiles().Count >= 8, $"golden cases missing in {GoldenCase.Directory}");

    [Theory]
    [MemberData(nameof(GoldenFiles))]
    public void MatchesPyTorchGoldenFiles(string file)
    {
        var c = GoldenCase.Load(file);
        var (runner, device, _) = Losses.Create(c.Form == "pranet" ? "PraNetStructureLoss" : "StructureLoss", _acc);
        using var _ = runner;
        using var pred = _acc.Allocate1D(Data.ToFloat(c.Pred));
        using var mask = _acc.Allocate1D(Data.ToFloat(c.Mask));
        using var grad = _acc.Allocate1D<float>(c.Pred.Length);
        float loss = device(pred.View, mask.View, grad.View, c.Shape);
        Data.AssertLoss(c.Loss, loss);
        Data.AssertGradient(Data.ToFloat(c.Grad), grad.GetAsArray1D());
    }

    [Theory]
    [MemberData(nameof(GoldenFiles))]
    public void PlaneLossesMatchPyTorch(string file)
    {
        var c = GoldenCase.Load(file);
        using var loss = c.Form == "pranet" ? null : new StructureLoss.Ilgpu(_acc);
        using var pranet = c.Form == "pranet" ? new PraNetStructureLoss.Ilgpu(_acc) : null;
        using var pred = _acc.Allocate1D(Data.ToFloat(c.Pred));
        using var mask = _acc.Allocate1D(Data.ToFloat(c.Mask));
        using var lossOut = _acc.Allocate1D<float>(1);
        using var planes = _acc.Allocate1D<float>(c.N * c.C);
        if (loss is not null)
        {
            loss.Compute(pred.View, mask.View, default, lossOut.View, planes.View, c.Shape);
        }
        else
        {
            pranet!.Compute(pred.View, mask.View, default, lossOut.View, planes.View, c.Shape);
        }

        _acc.Synchronize();
        Data.AssertLoss(c.Loss, lossOut.GetAsArray1D()[0]);
        var got = planes.GetAsArray1D();
        for (int p = 0; p < got.Length; p++)
        {
            Data.AssertLoss(c.PlaneLoss[p], got[p]);
        }
    }

    [Theory]
    [MemberData(nameof(LossNames))]
    public void MatchesGeneratedCpuBackend(string name)
    {
        var shape = new LossShape(2, 2, 13, 17);
        var (runner, device, host) = Losses.Create(name, _acc);
        using var _ = runner;
        foreach (bool soft in new[] { false, true })
        {
            var (p, m) = Data.Make(shape, seed: name.Length + (soft ? 100 : 0), soft);
            var expectedGrad = new float[shape.Length];
            float expected = host(p, m, expectedGrad, shape);
            using var pred = _acc.Allocate1D(p);
            using var mask = _acc.Allocate1D(m);
            using var grad = _acc.Allocate1D<float>(shape.Length);
            float actual = device(pred.View, mask.View, grad.View, shape);
            Data.AssertLoss(expected, actual);
            Data.AssertGradient(expectedGrad, grad.GetAsArray1D());
        }
    }

    [Fact]
    public void ReusesOneInstanceAcrossShapes()
    {
        using var runner = new StructureLoss.Ilgpu(_acc);
        foreach (var shape in new[] { new LossShape(1, 1, 8, 8), new LossShape(2, 3, 20, 24), new LossShape(1, 2, 5, 7), new LossShape(2, 3, 20, 24) })
        {
            var (p, m) = Data.Make(shape, seed: shape.Length);
            var expectedGrad = new float[shape.Length];
            float expected = StructureLoss.Cpu.Compute(p, m, expectedGrad, shape);
            using var pred = _acc.Allocate1D(p);
            using var mask = _acc.Allocate1D(m);
            using var grad = _acc.Allocate1D<float>(shape.Length);
            float actual = runner.Compute(pred.View, mask.View, grad.View, shape);
            Data.AssertLoss(expected, actual);
            Data.AssertGradient(expectedGrad, grad.GetAsArray1D());
        }
    }

    [Fact]
    public void EmptyGradientViewSkipsBackward()
    {
        var shape = new LossShape(1, 2, 9, 11);
        var (p, m) = Data.Make(shape, seed: 7);
        float expected = StructureLoss.Cpu.Compute(p, m, Span<float>.Empty, shape);
        using var runner = new StructureLoss.Ilgpu(_acc);
        using var pred = _acc.Allocate1D(p);
        using var mask = _acc.Allocate1D(m);
        Data.AssertLoss(expected, runner.Compute(pred.View, mask.View, default, shape));
        Data.AssertLoss(expected, runner.Compute(pred.View, mask.View, ArrayView<float>.Empty, shape));
    }

    [Fact]
    public void LossStaysOnTheDevice()
    {
        var shape = new LossShape(2, 1, 10, 12);
        var (p, m) = Data.Make(shape, seed: 11);
        var expectedGrad = new float[shape.Length];
        float expected = PraNetStructureLoss.Cpu.Compute(p, m, expectedGrad, shape);
        using var runner = new PraNetStructureLoss.Ilgpu(_acc);
        using var pred = _acc.Allocate1D(p);
        using var mask = _acc.Allocate1D(m);
        using var grad = _acc.Allocate1D<float>(shape.Length);
        using var lossOut = _acc.Allocate1D<float>(1);
        runner.Compute(pred.View, mask.View, grad.View, lossOut.View, shape);
        _acc.Synchronize();
        Data.AssertLoss(expected, lossOut.GetAsArray1D()[0]);
        Data.AssertGradient(expectedGrad, grad.GetAsArray1D());
    }

    [Fact]
    public void BackwardWithPlaneSeedsMatchesCpu()
    {
        var shape = new LossShape(2, 2, 9, 10);
        var (p, m) = Data.Make(shape, seed: 5);
        float[] seeds = [0.5f, -1f, 2f, 0.25f];
        var expectedGrad = new float[shape.Length];
        StructureLoss.Cpu.Backward(p, m, seeds, expectedGrad, shape);
        using var runner = new StructureLoss.Ilgpu(_acc);
        using var pred = _acc.Allocate1D(p);
        using var mask = _acc.Allocate1D(m);
        using var seedView = _acc.Allocate1D(seeds);
        using var grad = _acc.Allocate1D<float>(shape.Length);
        runner.Backward(pred.View, mask.View, seedView.View, grad.View, shape);
        _acc.Synchronize();
        Data.AssertGradient(expectedGrad, grad.GetAsArray1D());
    }

    [Fact]
    public unsafe void WrapsHostMemoryWithoutCopying()
    {
        var shape = new LossShape(1, 2, 8, 9);
        var (p, m) = Data.Make(shape, seed: 3);
        var expectedGrad = new float[shape.Length];
        float expected = StructureLoss.Cpu.Compute(p, m, expectedGrad, shape);
        var grad = new float[shape.Length];
        using var runner = new StructureLoss.Ilgpu(_acc);
        fixed (float* pp = p, pm = m, pg = grad)
        {
            var predView = IlgpuBridge.WrapHostView<float>(_acc, (IntPtr)pp, p.Length, out var b0);
            var maskView = IlgpuBridge.WrapHostView<float>(_acc, (IntPtr)pm, m.Length, out var b1);
            var gradView = IlgpuBridge.WrapHostView<float>(_acc, (IntPtr)pg, grad.Length, out var b2);
            using (b0)
            using (b1)
            using (b2)
            {
                Data.AssertLoss(expected, runner.Compute(predView, maskView, gradView, shape));
            }
        }

        Data.AssertGradient(expectedGrad, grad);
    }

    [Fact]
    public void WrapHostRejectsNonCpuArguments()
    {
        Assert.Throws<ArgumentException>("pointer", () => IlgpuBridge.WrapHost<float>(_acc, IntPtr.Zero, 4));
    }

    [Fact]
    public void RejectsBadViews()
    {
        var shape = new LossShape(1, 1, 6, 6);
        using var runner = new StructureLoss.Ilgpu(_acc);
        using var good = _acc.Allocate1D<float>(shape.Length);
        using var shortView = _acc.Allocate1D<float>(shape.Length - 1);
        Assert.Throws<ArgumentException>("pred", () => runner.Compute(shortView.View, good.View, default, shape));
        Assert.Throws<ArgumentException>("mask", () => runner.Compute(good.View, shortView.View, default, shape));
        Assert.Throws<ArgumentException>("predGrad", () => runner.Compute(good.View, good.View, shortView.View, shape));
        using var lossOut = _acc.Allocate1D<float>(2);
        Assert.Throws<ArgumentException>("lossOut", () => runner.Compute(good.View, good.View, default, lossOut.View, shape));
        Assert.Throws<ArgumentOutOfRangeException>("shape", () => runner.Compute(good.View, good.View, default, new LossShape(0, 1, 6, 6)));
    }

    [Fact]
    public void RejectsViewsOfAnotherAccelerator()
    {
        var shape = new LossShape(1, 1, 4, 4);
        using var other = ILGPU.Runtime.CPU.CPUContextExtensions.CreateCPUAccelerator(fixture.Context, 0, ILGPU.Runtime.CPU.CPUAcceleratorMode.Sequential);
        using var runner = new StructureLoss.Ilgpu(_acc);
        using var mine = _acc.Allocate1D<float>(shape.Length);
        using var theirs = other.Allocate1D<float>(shape.Length);
        var e = Assert.Throws<ArgumentException>("mask", () => runner.Compute(mine.View, theirs.View, default, shape));
        Assert.Contains("another accelerator", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DisposedRunnerThrows()
    {
        var shape = new LossShape(1, 1, 4, 4);
        var runner = new StructureLoss.Ilgpu(_acc);
        using var v = _acc.Allocate1D<float>(shape.Length);
        runner.Dispose();
        runner.Dispose();
        Assert.Throws<ObjectDisposedException>(() => runner.Compute(v.View, v.View, default, shape));
    }
}
