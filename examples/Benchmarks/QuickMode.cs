using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Runtime.InteropServices;
using LossDsl.Losses;
using LossDsl.TorchSharp.Tests;
using TorchSharp;
using static TorchSharp.torch;

namespace LossDsl.Benchmarks;

/// <summary>
/// <c>--quick</c>: every comparison in one process, printed as Markdown tables (median wall time over repeated runs after a
/// warm-up, ratio to eager TorchSharp, managed bytes allocated per call). Numbers are from one run on a shared machine.
/// </summary>
public static class QuickMode
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static int Run(string[] args)
    {
        torch.set_num_threads(Environment.ProcessorCount);
        Console.WriteLine($"# LossDsl quick benchmark");
        Console.WriteLine();
        Console.WriteLine($"Machine: {Environment.ProcessorCount} cores, {RuntimeInformation.ProcessArchitecture}, {RuntimeInformation.OSDescription}, .NET {Environment.Version}, TorchSharp threads {torch.get_num_threads()}");
        Console.WriteLine();

        StructureLossTable();
        KernelSweep();
        PixelScaling();
        return 0;
    }

    /// <summary>Median milliseconds and managed bytes per call.</summary>
    public static (double Ms, long Bytes) Measure(Action action, int minRuns = 5, double minSeconds = 1.0, int maxRuns = 200)
    {
        action();
        action();
        var times = new List<double>();
        long bytes0 = GC.GetTotalAllocatedBytes(true);
        var total = Stopwatch.StartNew();
        while (times.Count < maxRuns && (times.Count < minRuns || total.Elapsed.TotalSeconds < minSeconds))
        {
            var sw = Stopwatch.StartNew();
            action();
            times.Add(sw.Elapsed.TotalMilliseconds);
        }

        long bytes = (GC.GetTotalAllocatedBytes(true) - bytes0) / times.Count;
        times.Sort();
        return (times[times.Count / 2], bytes);
    }

    private static Action Eager(Workload w)
    {
        var shape = new long[] { w.Shape.N, w.Shape.C, w.Shape.H, w.Shape.W };
        var pred = torch.tensor(w.Pred, shape).requires_grad_(true);
        var mask = torch.tensor(w.Mask, shape);
        return () =>
        {
            using var scope = torch.NewDisposeScope();
            var loss = EagerStructureLoss.Weighted(pred, mask);
            loss.backward();
            pred.grad!.zero_();
        };
    }

    private static Action Cpu(Workload w) => () => StructureLoss.Cpu.Compute(w.Pred, w.Mask, w.Grad, w.Shape);

    private static void StructureLossTable()
    {
        Console.WriteLine("## Structure loss, forward + backward, float32");
        Console.WriteLine();
        Console.WriteLine("| shape | implementation | median ms | vs eager | managed bytes/call |");
        Console.WriteLine("|---|---|---:|---:|---:|");
        foreach (var shape in new[] { new LossShape(8, 1, 352, 352), new LossShape(8, 1, 498, 498), new LossShape(8, 1, 704, 704) })
        {
            var w = new Workload(shape);
            var eager = Measure(Eager(w), minRuns: 3);
            Row(shape, "eager TorchSharp (PyTorch code, translated)", eager, eager.Ms);
            Row(shape, "generated CPU (LossDsl)", Measure(Cpu(w)), eager.Ms);
            GC.Collect();
        }

        Console.WriteLine();
    }

    private static void Row(LossShape shape, string name, (double Ms, long Bytes) m, double eagerMs) =>
        Console.WriteLine(string.Create(Inv, $"| {shape} | {name} | {m.Ms:F2} | {eagerMs / m.Ms:F1}x | {m.Bytes:N0} |"));

    private delegate float CpuLoss(ReadOnlySpan<float> pred, ReadOnlySpan<float> mask, Span<float> grad, LossShape shape);

    private static void KernelSweep()
    {
        Console.WriteLine("## Kernel-size sweep, 8x1x352x352 float32, forward + backward");
        Console.WriteLine();
        Console.WriteLine("| kernel | generated CPU ms | ns/pixel | eager TorchSharp ms | vs eager |");
        Console.WriteLine("|---:|---:|---:|---:|---:|");
        var shape = new LossShape(8, 1, 352, 352);
        var w = new Workload(shape);
        var losses = new (int K, CpuLoss Loss)[]
        {
            (3, StructureK3.Cpu.Compute), (7, StructureK7.Cpu.Compute), (15, StructureK15.Cpu.Compute),
            (31, StructureK31.Cpu.Compute), (63, StructureK63.Cpu.Compute), (127, StructureK127.Cpu.Compute),
        };
        var tshape = new long[] { shape.N, shape.C, shape.H, shape.W };
        var pred = torch.tensor(w.Pred, tshape).requires_grad_(true);
        var mask = torch.tensor(w.Mask, tshape);
        foreach (var (k, loss) in losses)
        {
            var cpu = Measure(() => loss(w.Pred, w.Mask, w.Grad, shape));
            int kk = k;
            var eager = Measure(
                () =>
                {
                    using var scope = torch.NewDisposeScope();
                    var l = EagerStructureLoss.Weighted(pred, mask, kernel: kk);
                    l.backward();
                    pred.grad!.zero_();
                },
                minRuns: k > 31 ? 1 : 3,
                minSeconds: k > 31 ? 0 : 1);
            Console.WriteLine(string.Create(Inv, $"| {k} | {cpu.Ms:F2} | {cpu.Ms * 1e6 / shape.Length:F2} | {eager.Ms:F1} | {eager.Ms / cpu.Ms:F0}x |"));
        }

        Console.WriteLine();
    }

    private static void PixelScaling()
    {
        Console.WriteLine("## Pixel scaling, generated CPU, N=8, kernel 31, float32, forward + backward");
        Console.WriteLine();
        Console.WriteLine("| H x W | median ms | ns/pixel |");
        Console.WriteLine("|---|---:|---:|");
        foreach (int side in new[] { 64, 128, 256, 512, 1024 })
        {
            var w = new Workload(new LossShape(8, 1, side, side));
            var m = Measure(Cpu(w));
            Console.WriteLine(string.Create(Inv, $"| {side}x{side} | {m.Ms:F2} | {m.Ms * 1e6 / w.Shape.Length:F2} |"));
        }

        Console.WriteLine();
    }
}
