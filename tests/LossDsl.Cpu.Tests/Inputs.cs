using System;

namespace LossDsl.Cpu.Tests;

/// <summary>Deterministic random inputs whose values are exactly representable in float32.</summary>
internal static class Inputs
{
    public static (double[] Pred, double[] Mask) Random(LossShape shape, int seed, bool softMask = false, double scale = 2.0)
    {
        var rng = new Random(seed);
        var pred = new double[shape.Length];
        var mask = new double[shape.Length];
        for (int i = 0; i < pred.Length; i++)
        {
            pred[i] = (float)((rng.NextDouble() * 2 - 1) * scale);
        }

        // Blobby masks: a disc per plane, softened when asked.
        for (int p = 0; p < shape.Planes; p++)
        {
            double cy = rng.NextDouble() * shape.H, cx = rng.NextDouble() * shape.W, r = 1 + (rng.NextDouble() * Math.Max(shape.H, shape.W) / 2);
            for (int y = 0; y < shape.H; y++)
            {
                for (int x = 0; x < shape.W; x++)
                {
                    double d = Math.Sqrt(((y - cy) * (y - cy)) + ((x - cx) * (x - cx)));
                    double v = softMask ? 1 / (1 + Math.Exp(d - r)) : d < r ? 1 : 0;
                    mask[(p * shape.PlaneSize) + (y * shape.W) + x] = (float)v;
                }
            }
        }

        return (pred, mask);
    }

    public static float[] ToFloat(double[] a) => Array.ConvertAll(a, v => (float)v);

    public static Logits Logits(LossShape s, double[] d) => new(s, d);

    public static Target Target(LossShape s, double[] d) => new(s, d);
}
