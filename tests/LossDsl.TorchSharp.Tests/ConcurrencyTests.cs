using System;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using LossDsl.Losses;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace LossDsl.TorchSharp.Tests;

/// <summary>
/// Many threads calling the same generated TorchSharp entry points at once (the default path, which runs the CPU kernel on
/// CPU tensors, and the tensor-op path) get what serial calls get: the loss and the gradient that backward writes.
/// </summary>
public sealed class ConcurrencyTests
{
    private readonly ITestOutputHelper _out;

    public ConcurrencyTests(ITestOutputHelper output) => _out = output;

    internal const int Threads = 8;

    internal const int CallsPerThread = 12;

    private static readonly long[][] Shapes = { new long[] { 2, 1, 24, 20 }, new long[] { 1, 2, 16, 33 }, new long[] { 3, 1, 9, 41 } };

    private static (double Loss, double[] Grad) Run(int i, bool ops)
    {
        using var scope = torch.NewDisposeScope();
        var shape = Shapes[i % Shapes.Length];
        var pred = Paths.Random(500 + i, shape, ScalarType.Float32, requiresGrad: true);
        var mask = Paths.Mask(600 + i, shape, ScalarType.Float32);
        var loss = ops ? StructureLoss.TorchOps.Compute(pred, mask) : StructureLoss.Compute(pred, mask);
        loss.backward();
        return (loss.to(ScalarType.Float64).item<double>(), Paths.Values(pred.grad!));
    }

    [Fact]
    public void ConcurrentCalls_MatchSerialCalls()
    {
        var watch = Stopwatch.StartNew();
        const int cases = 6;
        var serial = Enumerable.Range(0, cases).Select(i => (Kernel: Run(i, false), Ops: Run(i, true))).ToArray();
        var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
        using var start = new Barrier(Threads);
        var threads = Enumerable.Range(0, Threads).Select(t => new Thread(() =>
        {
            start.SignalAndWait();
            for (int k = 0; k < CallsPerThread; k++)
            {
                int i = (t + k) % cases;
                bool ops = (t + k) % 2 == 1;
                var r = Run(i, ops);
                var s = ops ? serial[i].Ops : serial[i].Kernel;
                double scale = s.Grad.Max(Math.Abs);
                bool same = Math.Abs(r.Loss - s.Loss) <= 1e-6 * Math.Abs(s.Loss) && r.Grad.Zip(s.Grad).All(p => Math.Abs(p.First - p.Second) <= 1e-6 * scale);
                if (!same)
                {
                    failures.Enqueue($"thread {t}, call {k}, case {i}, {(ops ? "tensor ops" : "kernel")}: loss {r.Loss:R} vs serial {s.Loss:R}");
                }
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        _out.WriteLine($"{Threads} threads x {CallsPerThread} calls (forward + backward) against serial results; {watch.Elapsed.TotalSeconds:F1} s");
        Assert.True(failures.IsEmpty, string.Join("\n", failures.Take(10)));
    }
}
