using System;
using BenchmarkDotNet.Attributes;
using LossDsl.Losses;
using static TorchSharp.torch;

namespace LossDsl.Benchmarks;

/// <summary>Structure loss forward + backward at PraNet's training size and larger (BenchmarkDotNet).</summary>
[MemoryDiagnoser]
public class StructureLossBenchmarks
{
    private Workload _w = null!;
    private Tensor _pred = null!;
    private Tensor _mask = null!;
    private Action _eager = null!;
    private Action _torch = null!;
    private Action _torchOps = null!;

    [Params(352, 498, 704)]
    public int Side { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _w = new Workload(new LossShape(8, 1, Side, Side));
        (_pred, _mask) = Variants.Tensors(_w);
        _eager = Variants.TorchStep(_pred, _mask, Variants.TorchLoss("eager"));
        _torch = Variants.TorchStep(_pred, _mask, Variants.TorchLoss("torch"));
        _torchOps = Variants.TorchStep(_pred, _mask, Variants.TorchLoss("torchops"));
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _pred.Dispose();
        _mask.Dispose();
    }

    [Benchmark(Baseline = true, Description = "eager TorchSharp")]
    public void Eager() => _eager();

    [Benchmark(Description = "generated TorchSharp")]
    public void GeneratedTorchSharp() => _torch();

    [Benchmark(Description = "generated TorchSharp, tensor ops")]
    public void GeneratedTorchOps() => _torchOps();

    [Benchmark(Description = "generated CPU")]
    public float GeneratedCpu() => StructureLoss.Cpu.Compute(_w.Pred, _w.Mask, _w.Grad, _w.Shape);
}

/// <summary>Deep supervision (four side outputs, one mask) at 8×1×352×352: the shared-target overload against separate calls.</summary>
[MemoryDiagnoser]
public class DeepSupervisionBenchmarks
{
    private Prepared _eager = null!;
    private Prepared _separate = null!;
    private Prepared _deep = null!;

    [GlobalSetup]
    public void Setup()
    {
        var w = new Workload(new LossShape(8, 1, 352, 352));
        _eager = Variants.Create("deep-eager", w);
        _separate = Variants.Create("deep-torch-separate", w);
        _deep = Variants.Create("deep-torch", w);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _eager.Dispose();
        _separate.Dispose();
        _deep.Dispose();
    }

    [Benchmark(Baseline = true, Description = "eager TorchSharp, 4 calls summed")]
    public void Eager() => _eager.Run();

    [Benchmark(Description = "generated TorchSharp, 4 separate calls summed")]
    public void Separate() => _separate.Run();

    [Benchmark(Description = "generated TorchSharp, Compute(preds, mask)")]
    public void Deep() => _deep.Run();
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
