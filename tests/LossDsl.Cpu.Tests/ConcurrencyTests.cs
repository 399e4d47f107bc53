using System;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using LossDsl.Tests;
using Xunit;
using Xunit.Abstractions;

namespace LossDsl.Cpu.Tests;

/// <summary>
/// Many threads calling the same generated CPU entry points at once get exactly what serial calls get (the backend keeps a
/// kernel per thread and shares one chunk runner): values and gradients bit for bit, in float and double, over shapes that
/// differ between threads so a shared buffer sized for one shape would show.
/// </summary>
public class ConcurrencyTests
{
    private readonly ITestOutputHelper _out;

    public ConcurrencyTests(ITestOutputHelper output) => _out = output;

    internal const int Threads = 16;

    internal const int CallsPerThread = 40;

    private static readonly LossShape[] Shapes = { new(2, 1, 19, 23), new(1, 2, 8, 40), new(3, 1, 33, 7), new(1, 1, 64, 64) };

    private sealed record Case(LossShape Shape, double[] Pred, double[] Mask, float[] PredF, float[] MaskF);

    private static Case Make(int i)
    {
        var shape = Shapes[i % Shapes.Length];
        var (pred, mask) = Inputs.Random(shape, 1000 + i, softMask: i % 2 == 0);
        return new Case(shape, pred, mask, Inputs.ToFloat(pred), Inputs.ToFloat(mask));
    }

    private static (double Value, double[] Grad, float ValueF, float[] GradF, double Kitchen) Run(Case c)
    {
        var grad = new double[c.Shape.Length];
        var gradF = new float[c.Shape.Length];
        double value = WeightedK31.Cpu.Compute(c.Pred, c.Mask, grad, c.Shape);
        float valueF = WeightedK31.Cpu.Compute(c.PredF, c.MaskF, gradF, c.Shape);
        double kitchen = Kitchen.Cpu.Compute(c.Pred, c.Mask, new double[c.Shape.Length], c.Shape);
        return (value, grad, valueF, gradF, kitchen);
    }

    [Fact]
    public void ConcurrentCalls_MatchSerialCalls()
    {
        var watch = Stopwatch.StartNew();
        var cases = Enumerable.Range(0, 8).Select(Make).ToArray();
        var serial = cases.Select(Run).ToArray();
        var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
        using var start = new Barrier(Threads);
        var threads = Enumerable.Range(0, Threads).Select(t => new Thread(() =>
        {
            start.SignalAndWait();
            for (int k = 0; k < CallsPerThread; k++)
            {
                int i = (t + k) % cases.Length;
                var r = Run(cases[i]);
                var s = serial[i];
                if (r.Value != s.Value || r.ValueF != s.ValueF || r.Kitchen != s.Kitchen || !r.Grad.SequenceEqual(s.Grad) || !r.GradF.SequenceEqual(s.GradF))
                {
                    failures.Enqueue($"thread {t}, call {k}, case {i} ({cases[i].Shape}): {r.Value:R} vs {s.Value:R}, {r.ValueF:R} vs {s.ValueF:R}");
                }
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        _out.WriteLine($"{Threads} threads x {CallsPerThread} calls (3 entry points each) against serial results; {watch.Elapsed.TotalSeconds:F1} s");
        Assert.True(failures.IsEmpty, string.Join("\n", failures.Take(10)));
    }
}
