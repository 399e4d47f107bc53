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

        Console.WriteLine($"OpenMP: OMP_WAIT_POLICY at start {Environment.GetEnvironmentVariable("OMP_WAIT_POLICY") ?? "unset"}; LossDsl.TorchSharp's module initializer: {LossDsl.TorchSharp.NativeEnvironment.Outcome?.ToString() ?? "did not run"} (Set = PASSIVE set before libtorch loaded).");
        Console.WriteLine();
        // The structure loss at 8x1x352x352 keeps four float32 planes-sets live (pred, mask, weight, gradient: 16 MB): copy as much.
        s_bandwidth = CopyBandwidth(4L * new LossShape(8, 1, 352, 352).Length * sizeof(float));
        Console.WriteLine(string.Create(Inv, $"Memory floor: the bytes the schedule moves ÷ copy bandwidth measured now ({s_bandwidth / 1e9:F1} GB/s, read + write, {Environment.ProcessorCount} threads copying a 16 MB buffer, the 8x1x352x352 loss's working set of pred, mask, weight and gradient; larger shapes fall further out of cache, so their floor is optimistic). Structure loss: {FloorBytesPerPixel} bytes per pixel (stencil pre-pass reads mask, writes the weight: 8; forward sweep reads pred, mask, weight: 12; backward sweep reads the same and writes the gradient: 16); deep supervision with {Variants.SideOutputs} side outputs: 8 + {Variants.SideOutputs} × 28."));
        Console.WriteLine();
        var total = Stopwatch.StartNew();
        StructureLossTable();
        DeepSupervision();
        KernelSweep();
        PixelScaling();
        Console.WriteLine(string.Create(Inv, $"Total quick-mode time: {total.Elapsed.TotalSeconds:F0} s."));
        return 0;
    }

    /// <summary>Timing of one action: median and minimum milliseconds per call, managed bytes per call, timed calls, warm-up calls.</summary>
    public readonly record struct Stats(double Median, double Min, long Bytes, int Runs, int WarmupCalls);

    /// <summary>Median milliseconds and managed bytes per call (see <see cref="MeasureStats"/>).</summary>
    public static (double Ms, long Bytes) Measure(Action action, int minRuns = 5, double minSeconds = 1.0, int maxRuns = 200)
    {
        var s = MeasureStats(action, minRuns, minSeconds, maxRuns);
        return (s.Median, s.Bytes);
    }

    /// <summary>
    /// Warms <paramref name="action"/> up to its steady state (<see cref="WarmUp"/>), then times it: at least
    /// <paramref name="minRuns"/> calls and <paramref name="minSeconds"/> seconds, at most <paramref name="maxRuns"/> calls.
    /// </summary>
    public static Stats MeasureStats(Action action, int minRuns = 5, double minSeconds = 1.0, int maxRuns = 200)
    {
        int warm = WarmUp(action);
        var times = new List<double>();
        long bytes0 = GC.GetTotalAllocatedBytes(true);
        var total = Stopwatch.StartNew();
        while (times.Count < maxRuns && (times.Count < minRuns || total.Elapsed.TotalSeconds < minSeconds))
        {
            long t0 = Stopwatch.GetTimestamp();
            action();
            times.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
        }

        long bytes = (GC.GetTotalAllocatedBytes(true) - bytes0) / times.Count;
        times.Sort();
        return new Stats(times[times.Count / 2], times[0], bytes, times.Count, warm);
    }

    /// <summary>Fewest warm-up calls: tiered JIT promotes a method after 30 calls (and OSR loops after their back-edge count).</summary>
    public const int WarmupMinCalls = 60;

    /// <summary>Shortest warm-up: tier-1 code is compiled in the background after a 100 ms call-counting delay.</summary>
    public const double WarmupMinSeconds = 0.5;

    /// <summary>Longest warm-up (a call slower than this gets one warm-up call).</summary>
    public const double WarmupMaxSeconds = 4.0;

    /// <summary>
    /// Calls <paramref name="action"/> until it runs at its steady state: at least <see cref="WarmupMinCalls"/> calls and
    /// <see cref="WarmupMinSeconds"/>, and then until the median of the last 10 calls is within 10 % of the median of the
    /// 10 before (JIT tiers, lazy native initialisation, caches and page faults settled), but never longer than
    /// <see cref="WarmupMaxSeconds"/> (a call slower than that gets one warm-up call). Returns the number of calls.
    /// </summary>
    public static int WarmUp(Action action)
    {
        var times = new List<double>();
        var sw = Stopwatch.StartNew();
        while (true)
        {
            long t0 = Stopwatch.GetTimestamp();
            action();
            times.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
            double elapsed = sw.Elapsed.TotalSeconds;
            if (elapsed >= WarmupMaxSeconds)
            {
                return times.Count;
            }

            if (times.Count >= Math.Max(WarmupMinCalls, 20) && elapsed >= WarmupMinSeconds)
            {
                double last = MedianOf(times, times.Count - 10, 10), before = MedianOf(times, times.Count - 20, 10);
                if (Math.Abs(last - before) <= 0.1 * before)
                {
                    return times.Count;
                }
            }
        }
    }

    private static double MedianOf(List<double> times, int start, int count)
    {
        var window = times.GetRange(start, count);
        window.Sort();
        return window[count / 2];
    }

    public const string TimeFlag = "--time";
    private const string TimeMarker = "TIME ";
    private static readonly Dictionary<string, string> PassiveOmp = new() { ["OMP_WAIT_POLICY"] = "PASSIVE", ["LOSSDSL_KEEP_OMP_POLICY"] = "1" };
    private static readonly Dictionary<string, string> DefaultOmp = new() { ["LOSSDSL_KEEP_OMP_POLICY"] = "1" };

    /// <summary>Bytes per pixel the structure loss's schedule moves (float32): pre-pass 8, forward 12, backward 16.</summary>
    public const int FloorBytesPerPixel = 36;

    private static double s_bandwidth = double.NaN;

    /// <summary>The memory floor of a schedule moving <paramref name="bytesPerPixel"/> per pixel of <paramref name="shape"/>, in ms.</summary>
    private static double FloorMs(LossShape shape, double bytesPerPixel) => shape.Length * bytesPerPixel / s_bandwidth * 1e3;

    /// <summary>
    /// Copy bandwidth (bytes read + written per second): every core copies its share of a buffer of
    /// <paramref name="bytes"/> into another, best of repeated rounds after a warm-up.
    /// </summary>
    public static double CopyBandwidth(long bytes)
    {
        var src = new byte[bytes];
        var dst = new byte[bytes];
        Random.Shared.NextBytes(src);
        int parts = Environment.ProcessorCount;
        long part = (bytes + parts - 1) / parts;
        void Copy() => System.Threading.Tasks.Parallel.For(0, parts, i =>
        {
            long start = i * part, n = Math.Min(part, bytes - start);
            src.AsSpan((int)start, (int)n).CopyTo(dst.AsSpan((int)start, (int)n));
        });
        var stats = MeasureStats(Copy, minRuns: 50, minSeconds: 0.5);
        return 2.0 * bytes / (stats.Min / 1e3);
    }

    /// <summary><c>--time &lt;id&gt; &lt;N&gt; &lt;side&gt;</c>: one row of the structure-loss table measured on its own.</summary>
    public static int TimeChild(string[] args)
    {
        int at = Array.IndexOf(args, TimeFlag);
        int n = int.Parse(args[at + 2], Inv), side = int.Parse(args[at + 3], Inv);
        torch.set_num_threads(Environment.ProcessorCount);
        using var prepared = Variants.Create(args[at + 1], new LossShape(n, 1, side, side));
        var (ms, bytes) = Measure(prepared.Run);
        Console.WriteLine(string.Create(Inv, $"{TimeMarker}{ms:R} {bytes}"));
        return 0;
    }

    /// <summary>Runs <see cref="TimeChild"/> in a child process with extra environment variables.</summary>
    private static (double Ms, long Bytes)? MeasureInChild(string id, LossShape shape, IReadOnlyDictionary<string, string> environment)
    {
        var output = ChildProcess.Run([TimeFlag, id, shape.N.ToString(Inv), shape.H.ToString(Inv)], environment);
        var line = output?.Split('\n').FirstOrDefault(l => l.StartsWith(TimeMarker, StringComparison.Ordinal));
        if (line is null)
        {
            return null;
        }

        var parts = line[TimeMarker.Length..].Trim().Split(' ');
        return (double.Parse(parts[0], Inv), long.Parse(parts[1], Inv));
    }

    private static void StructureLossTable()
    {
        Console.WriteLine("## Structure loss, forward + backward, float32");
        Console.WriteLine();
        Console.WriteLine("Peak MiB: extra resident memory (native + managed) of a call over its inputs, measured in a separate process per row (see PeakMemory.cs).");
        Console.WriteLine("The tensor-op path is what generated TorchSharp runs on non-CPU devices; on the CPU it is shown for information only.");
        Console.WriteLine("This process runs with OMP_WAIT_POLICY=PASSIVE set by LossDsl.TorchSharp's module initializer (libtorch's OpenMP threads sleep instead of spinning between ops). Rows marked \"own process\" ran in a child process: with libtorch's default (spinning) policy (LOSSDSL_KEEP_OMP_POLICY=1), or with OMP_WAIT_POLICY=PASSIVE set in the environment instead of by the initializer.");
        Console.WriteLine();
        Console.WriteLine(Header);
        Console.WriteLine("|---|---|---:|---:|---:|---:|---:|---:|");
        foreach (int side in new[] { 352, 498, 704 })
        {
            var shape = new LossShape(8, 1, side, side);
            var w = new Workload(shape);
            var (pred, mask) = Variants.Tensors(w);
            double eagerMs = 0;
            foreach (var (id, name) in Variants.Single)
            {
                // The TorchSharp rows share one pair of tensors; the CPU row reads the same values from the arrays.
                var run = id == "cpu"
                    ? Variants.Create(id, w).Run
                    : Variants.TorchStep(pred, mask, Variants.TorchLoss(id));
                var m = Measure(run, minRuns: id == "eager" ? 3 : 5);
                eagerMs = id == "eager" ? m.Ms : eagerMs;
                Row(shape, name, m, eagerMs, PeakMemory.Measure(id, shape));
            }

            // libtorch's OpenMP workers spin after each op and then compete for the 2 cores with the .NET kernel's threads.
            if (side == 352)
            {
                foreach (var (label, env) in new[] { ("libtorch's default OMP policy (own process)", DefaultOmp), ("OMP_WAIT_POLICY=PASSIVE from the environment (own process)", PassiveOmp) })
                {
                    if (MeasureInChild("torch", shape, env) is { } child)
                    {
                        Row(shape, Variants.Single[1].Name + ", " + label, child, eagerMs, "-");
                    }
                }
            }

            pred.Dispose();
            mask.Dispose();
            GC.Collect();
        }

        // ILGPU's CPU accelerator simulates GPU threads (a correctness target, not a fast path): small shape only.
        var small = new LossShape(2, 1, 64, 64);
        var ws = new Workload(small);
        double smallEager = 0;
        foreach (var (id, name) in new[] { ("eager", Variants.Single[0].Name), ("cpu", "generated CPU (spans)"), ("ilgpu", "generated ILGPU, CPU accelerator (simulated GPU threads)") })
        {
            using var prepared = Variants.Create(id, ws);
            var m = Measure(prepared.Run);
            smallEager = id == "eager" ? m.Ms : smallEager;
            Row(small, name, m, smallEager, PeakMemory.Measure(id, small));
        }

        Console.WriteLine();
    }

    private const string Header = "| shape | implementation | median ms | vs eager | floor ms | vs floor | managed bytes/call | peak MiB |";

    private static void Row(LossShape shape, string name, (double Ms, long Bytes) m, double eagerMs, string peak, double bytesPerPixel = FloorBytesPerPixel)
    {
        double floor = FloorMs(shape, bytesPerPixel);
        Console.WriteLine(string.Create(Inv, $"| {shape} | {name} | {Ms(m.Ms)} | {eagerMs / m.Ms:F2}x | {Ms(floor)} | {m.Ms / floor:F1}x | {m.Bytes:N0} | {peak} |"));
    }

    private static string Ms(double ms) => ms.ToString(ms < 1 ? "F3" : "F2", Inv);

    private static void DeepSupervision()
    {
        var shape = new LossShape(8, 1, 352, 352);
        Console.WriteLine($"## Deep supervision, {Variants.SideOutputs} side outputs, {shape} float32, forward + backward");
        Console.WriteLine();
        Console.WriteLine(Header);
        Console.WriteLine("|---|---|---:|---:|---:|---:|---:|---:|");
        var w = new Workload(shape);
        double eagerMs = 0;
        foreach (var (id, name) in Variants.Deep)
        {
            using var prepared = Variants.Create(id, w);
            var m = Measure(prepared.Run, minRuns: id == "deep-eager" ? 3 : 5);
            eagerMs = id == "deep-eager" ? m.Ms : eagerMs;
            Row(shape, name, m, eagerMs, PeakMemory.Measure(id, shape), DeepBytesPerPixel);
            GC.Collect();
        }

        if (MeasureInChild("deep-torch", shape, DefaultOmp) is { } spinning)
        {
            Row(shape, Variants.Deep[2].Name + ", libtorch's default OMP policy (own process)", spinning, eagerMs, "-", DeepBytesPerPixel);
        }

        Console.WriteLine();
    }

    private const int DeepBytesPerPixel = 8 + (Variants.SideOutputs * 28);

    private delegate float CpuLoss(ReadOnlySpan<float> pred, ReadOnlySpan<float> mask, Span<float> grad, LossShape shape);

    private static void KernelSweep()
    {
        Console.WriteLine("## Kernel-size sweep, 8x1x352x352 float32, forward + backward");
        Console.WriteLine();
        Console.WriteLine("Eager at k > 31 is timed once (after one warm-up call): it takes seconds per call.");
        Console.WriteLine();
        Console.WriteLine("| kernel | generated CPU ms | ns/pixel | CPU vs floor | generated TorchSharp ms | eager TorchSharp ms | CPU vs eager | TorchSharp vs eager |");
        Console.WriteLine("|---:|---:|---:|---:|---:|---:|---:|---:|");
        var shape = new LossShape(8, 1, 352, 352);
        var w = new Workload(shape);
        var losses = new (int K, CpuLoss Cpu, Func<Tensor, Tensor, Tensor> Torch)[]
        {
            (3, StructureK3.Cpu.Compute, StructureK3.Compute), (7, StructureK7.Cpu.Compute, StructureK7.Compute),
            (15, StructureK15.Cpu.Compute, StructureK15.Compute), (31, StructureK31.Cpu.Compute, StructureK31.Compute),
            (63, StructureK63.Cpu.Compute, StructureK63.Compute), (127, StructureK127.Cpu.Compute, StructureK127.Compute),
        };
        var (pred, mask) = Variants.Tensors(w);
        foreach (var (k, cpuLoss, torchLoss) in losses)
        {
            var cpu = Measure(() => cpuLoss(w.Pred, w.Mask, w.Grad, shape));
            var generated = Measure(Variants.TorchStep(pred, mask, torchLoss));
            int kk = k;
            bool big = k > 31;
            var eager = Measure(
                Variants.TorchStep(pred, mask, (p, m) => EagerStructureLoss.Weighted(p, m, kernel: kk)),
                minRuns: big ? 1 : 3,
                minSeconds: big ? 0 : 1);
            Console.WriteLine(string.Create(Inv, $"| {k} | {cpu.Ms:F2} | {cpu.Ms * 1e6 / shape.Length:F2} | {cpu.Ms / FloorMs(shape, FloorBytesPerPixel):F1}x | {generated.Ms:F2} | {eager.Ms:F1} | {eager.Ms / cpu.Ms:F0}x | {eager.Ms / generated.Ms:F0}x |"));
        }

        pred.Dispose();
        mask.Dispose();
        Console.WriteLine();
    }

    private static void PixelScaling()
    {
        Console.WriteLine("## Pixel scaling, generated CPU, N=8, kernel 31, float32, forward + backward");
        Console.WriteLine();
        Console.WriteLine("| H x W | median ms | ns/pixel | floor ms | vs floor |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        foreach (int side in new[] { 64, 128, 256, 512, 1024 })
        {
            var w = new Workload(new LossShape(8, 1, side, side));
            var m = Measure(() => StructureLoss.Cpu.Compute(w.Pred, w.Mask, w.Grad, w.Shape));
            Console.WriteLine(string.Create(Inv, $"| {side}x{side} | {m.Ms:F2} | {m.Ms * 1e6 / w.Shape.Length:F2} | {Ms(FloorMs(w.Shape, FloorBytesPerPixel))} | {m.Ms / FloorMs(w.Shape, FloorBytesPerPixel):F1}x |"));
        }

        Console.WriteLine();
    }
}
