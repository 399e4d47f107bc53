using System;
using System.Globalization;
using LossDsl.Cpu;

namespace LossDsl.Benchmarks;

/// <summary>
/// <c>--stencils</c>: the runtime stencil helpers alone (box filter, max pool), one thread, 8 planes of 352×352 float32,
/// for k = 3 … 127. Minimum and median of repeated calls after a steady-state warm-up; ns per pixel.
/// </summary>
public static unsafe class StencilBench
{
    public const string Flag = "--stencils";

    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static int Run()
    {
        var shape = new LossShape(8, 1, 352, 352);
        var work = new Workload(shape);
        float[] dst = new float[shape.Length];
        double[] tmp = new double[shape.Length + (shape.Planes * shape.W)];
        Console.WriteLine($"## Stencil helpers, {shape} float32, one thread (all planes in sequence)");
        Console.WriteLine();
        Console.WriteLine("| kernel | box filter min ms | box median ms | box ns/pixel | max pool min ms | max median ms | max ns/pixel |");
        Console.WriteLine("|---:|---:|---:|---:|---:|---:|---:|");
        foreach (int k in new[] { 3, 7, 15, 31, 63, 127 })
        {
            var box = QuickMode.MeasureStats(() => Planes(work.Mask, dst, tmp, shape, k, pool: false));
            var max = QuickMode.MeasureStats(() => Planes(work.Pred, dst, tmp, shape, k, pool: true));
            Console.WriteLine(string.Create(Inv,
                $"| {k} | {box.Min:F3} | {box.Median:F3} | {box.Min * 1e6 / shape.Length:F2} | {max.Min:F3} | {max.Median:F3} | {max.Min * 1e6 / shape.Length:F2} |"));
        }

        Console.WriteLine();
        return 0;
    }

    private static void Planes(float[] src, float[] dst, double[] tmp, LossShape shape, int k, bool pool)
    {
        int h = shape.H, w = shape.W, hw = h * w;
        fixed (float* s = src, d = dst)
        fixed (double* t = tmp)
        {
            for (int p = 0; p < shape.Planes; p++)
            {
                long start = (long)p * hw;
                if (pool)
                {
                    Stencils.ExtremumFilter(s + start, d + start, h, w, k, t + start, min: false);
                }
                else
                {
                    Stencils.BoxFilter(s + start, d + start, h, w, k, t + start, t + shape.Length + ((long)p * w));
                }
            }
        }
    }
}
