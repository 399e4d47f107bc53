using System;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using TorchSharp;

namespace LossDsl.Benchmarks;

/// <summary>
/// Peak resident memory of one forward + backward, measured in a child process per (variant, shape) so that no other
/// measurement's memory is mixed in. The child (<c>--peak &lt;id&gt; &lt;N&gt; &lt;side&gt;</c>) sets up the inputs, runs the
/// variant once (JIT, lazy native initialisation), frees what it can (full GC, <c>malloc_trim</c>), resets the kernel's
/// high-water mark (<c>/proc/self/clear_refs</c> ← 5), reads VmRSS, runs the variant three times and prints
/// <c>VmHWM − VmRSS</c>: the extra resident memory a call needs on top of its inputs, native and managed together.
/// Linux only; elsewhere (or when the reset is refused) the table shows "n/a".
/// </summary>
public static class PeakMemory
{
    public const string Flag = "--peak";
    private const string Marker = "PEAK_BYTES ";
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>Runs the child for <paramref name="id"/> at <paramref name="shape"/> and formats its answer in MiB (or "n/a").</summary>
    public static string Measure(string id, LossShape shape)
    {
        if (!File.Exists("/proc/self/status"))
        {
            return "n/a";
        }

        string? output = ChildProcess.Run([Flag, id, shape.N.ToString(Inv), shape.H.ToString(Inv)]);
        if (output is null)
        {
            return "timeout";
        }

        var line = output.Split('\n').FirstOrDefault(l => l.StartsWith(Marker, StringComparison.Ordinal));
        return line is not null && long.TryParse(line.AsSpan(Marker.Length).Trim(), NumberStyles.Integer, Inv, out long bytes)
            ? string.Create(Inv, $"{bytes / (1024.0 * 1024.0):F1}")
            : "n/a";
    }

    /// <summary>The child: <c>--peak &lt;id&gt; &lt;N&gt; &lt;side&gt;</c> (square planes, C = 1).</summary>
    public static int RunChild(string[] args)
    {
        int at = Array.IndexOf(args, Flag);
        string id = args[at + 1];
        var shape = new LossShape(int.Parse(args[at + 2], Inv), 1, int.Parse(args[at + 3], Inv), int.Parse(args[at + 3], Inv));
        torch.set_num_threads(Environment.ProcessorCount);
        using var prepared = Variants.Create(id, shape);
        prepared.Run();
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect();
        TrimNativeHeap();
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Console.WriteLine("n/a (clear_refs refused)");
            return 0;
        }

        long before = StatusKb("VmRSS");
        for (int i = 0; i < 3; i++)
        {
            prepared.Run();
        }

        long peak = StatusKb("VmHWM");
        Console.WriteLine(string.Create(Inv, $"{Marker}{(peak - before) * 1024}"));
        return 0;
    }

    /// <summary>A "Name:  123 kB" line of /proc/self/status, in kB.</summary>
    private static long StatusKb(string name)
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith(name + ":", StringComparison.Ordinal))
            {
                return long.Parse(line[(name.Length + 1)..].Replace("kB", string.Empty, StringComparison.Ordinal).Trim(), Inv);
            }
        }

        throw new InvalidOperationException($"/proc/self/status has no {name} line.");
    }

    /// <summary>Returns freed glibc heap pages to the kernel, so the baseline holds only live memory.</summary>
    private static void TrimNativeHeap()
    {
        try
        {
            _ = MallocTrim(0);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // Not glibc: the baseline then includes freed but cached heap pages; the numbers stay comparable.
        }
    }

    [DllImport("libc.so.6", EntryPoint = "malloc_trim")]
    private static extern int MallocTrim(nuint pad);
}
