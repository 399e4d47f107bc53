using System;
using BenchmarkDotNet.Attributes;
using LossDsl.Losses;
using LossDsl.TorchSharp.Tests;
using TorchSharp;
using static TorchSharp.torch;

namespace LossDsl.Benchmarks;

/// <summary>Structure loss forward + backward at PraNet's training size and larger (BenchmarkDotNet).</summary>
[MemoryDiagnoser]
public class StructureLossBenchmarks
{
    private Workload _w = null!;
    private Tensor _pred = null!;
    private Tensor _mask = null!;

    [Params(352, 498, 704)]
    public int Side { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _w = new Workload(new LossShape(8, 1, Side, Side));
        var shape = new long[] { 8, 1, Side, Side };
        _pred = torch.tensor(_w.Pred, shape).requires_grad_(true);
        _mask = torch.tensor(_w.Mask, shape);
    }

    [Benchmark(Baseline = true, Description = "eager TorchSharp")]
    public void Eager()
    {
        using var scope = torch.NewDisposeScope();
        var loss = EagerStructureLoss.Weighted(_pred, _mask);
        loss.backward();
        _pred.grad!.zero_();
    }

    [Benchmark(Description = "generated CPU")]
    public float GeneratedCpu() => StructureLoss.Cpu.Compute(_w.Pred, _w.Mask, _w.Grad, _w.Shape);
}

/// <summary>Time per pixel of the generated CPU backend as the pooling window grows (should stay flat).</summary>
public class KernelSweepBenchmarks
{
    private Workload _w = null!;

    [GlobalSetup]
    public void Setup() => _w = new Workload(new LossShape(8, 1, 352, 352));

    [Benchmark(Description = "k=3")]
    public float K3() => StructureK3.Cpu.Compute(_w.Pred, _w.Mask, _w.Grad, _w.Shape);

    [Benchmark(Description = "k=31")]
    public float K31() => StructureK31.Cpu.Compute(_w.Pred, _w.Mask, _w.Grad, _w.Shape);

    [Benchmark(Description = "k=127")]
    public float K127() => StructureK127.Cpu.Compute(_w.Pred, _w.Mask, _w.Grad, _w.Shape);
}
