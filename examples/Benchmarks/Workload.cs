using System;

namespace LossDsl.Benchmarks;

/// <summary>A deterministic batch of logits and blob masks, as float32 arrays.</summary>
public sealed class Workload
{
    public Workload(LossShape shape, int seed = 1)
    {
        Shape = shape;
        Pred = new float[shape.Length];
        Mask = new float[shape.Length];
        Grad = new float[shape.Length];
        var rng = new Random(seed);
        for (int i = 0; i < Pred.Length; i++)
        {
            Pred[i] = (float)((rng.NextDouble() * 4) - 2);
        }

        for (int p = 0; p < shape.Planes; p++)
        {
            double cy = shape.H * (0.3 + (0.4 * rng.NextDouble())), cx = shape.W * (0.3 + (0.4 * rng.NextDouble()));
            double r = Math.Min(shape.H, shape.W) * (0.15 + (0.2 * rng.NextDouble()));
            for (int y = 0; y < shape.H; y++)
            {
                for (int x = 0; x < shape.W; x++)
                {
                    double d = Math.Sqrt(((y - cy) * (y - cy)) + ((x - cx) * (x - cx)));
                    Mask[(p * shape.PlaneSize) + (y * shape.W) + x] = d < r ? 1f : 0f;
                }
            }
        }
    }

    public LossShape Shape { get; }

    public float[] Pred { get; }

    public float[] Mask { get; }

    public float[] Grad { get; }

    public override string ToString() => Shape.ToString();
}
