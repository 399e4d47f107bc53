using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using LossDsl.Losses;
using LossDsl.TorchSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace LossDsl.Benchmarks;

/// <summary>
/// <c>--overhead</c>: the generated TorchSharp entry point against the span call on the same memory, structure loss
/// forward + backward at 8×1×352², in interleaved rounds (so that the machine's load hits both alike): span call;
/// <c>Compute</c> + <c>backward()</c> with <c>pred.grad</c> zeroed after each step (<c>zero_grad(set_to_none: false)</c>);
/// and with <c>pred.grad</c> set to none (PyTorch's and TorchSharp's default <c>zero_grad</c>).
/// </summary>
public static class TorchOverhead
{
    public const string Flag = "--overhead";

    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static int Run()
    {
        torch.set_num_threads(Environment.ProcessorCount);
        var shape = new LossShape(8, 1, 352, 352);
        var w = new Workload(shape);
        var (pred, mask) = Variants.Tensors(w);
        var grad = torch.empty_like(pred);
        var cases = new (string Name, Action Run)[]
        {
            ("span call (StructureLoss.Cpu.Compute on the tensors' memory)", () => StructureLoss.Cpu.Compute(
                TensorBridge.AsReadOnlySpan<float>(pred), TensorBridge.AsReadOnlySpan<float>(mask), TensorBridge.AsSpan<float>(grad), shape)),
            ("Compute + backward, grad zeroed", Variants.TorchStep(pred, mask, StructureLoss.Compute)),
            ("Compute + backward, grad set to none", Variants.TorchStepToNone(pred, mask, StructureLoss.Compute)),
        };

        foreach (var c in cases)
        {
            QuickMode.WarmUp(c.Run);
        }

        var times = cases.Select(_ => new List<double>()).ToArray();
        for (int round = 0; round < 30; round++)
        {
            for (int i = 0; i < cases.Length; i++)
            {
                for (int n = 0; n < 10; n++)
                {
                    long t0 = Stopwatch.GetTimestamp();
                    cases[i].Run();
                    times[i].Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
                }
            }
        }

        Console.WriteLine($"## TorchSharp entry point vs span call, {shape} float32, forward + backward, 30 interleaved rounds of 10 calls");
        Console.WriteLine();
        Console.WriteLine($"OMP_WAIT_POLICY at start: {Environment.GetEnvironmentVariable("OMP_WAIT_POLICY") ?? "(unset)"}; LossDsl module initializer: {NativeEnvironment.Outcome?.ToString() ?? "did not run"}.");
        Console.WriteLine();
        Console.WriteLine("| path | min ms | median ms | min vs span | median vs span |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        double spanMin = times[0].Min(), spanMedian = Median(times[0]);
        for (int i = 0; i < cases.Length; i++)
        {
            double min = times[i].Min(), median = Median(times[i]);
            Console.WriteLine(string.Create(Inv, $"| {cases[i].Name} | {min:F2} | {median:F2} | {min / spanMin:F2}x | {median / spanMedian:F2}x |"));
        }

        Console.WriteLine();
        grad.Dispose();
        pred.Dispose();
        mask.Dispose();
        return 0;
    }

    private static double Median(List<double> values)
    {
        var sorted = values.OrderBy(v => v).ToList();
        return sorted[sorted.Count / 2];
    }
}
