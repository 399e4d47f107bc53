// A deterministic synthetic stand-in for a polyp segmentation data set (Kvasir-SEG / CVC-ClinicDB style):
// pinkish mucosa with illumination fall-off, low-frequency texture and dark folds; polyps are lumpy, dome-shaded
// ellipses with soft edges, a slightly different colour and a specular highlight. Some images hold no polyp,
// some hold two. Every sample is a pure function of (seed, index), so the same seed gives the same images on
// every machine and in every run.
using System;
using System.Collections.Generic;
using static TorchSharp.torch;

namespace PraNet.Training;

/// <summary>
/// An in-memory set of RGB images (3×S×S, values in [0, 1]) and masks (1×S×S, values in [0, 1]: binary for the
/// synthetic set, soft where a mask file was resized to S×S).
/// </summary>
public sealed class PolypDataset
{
    private PolypDataset(int count, int size, float[] images, float[] masks)
    {
        Count = count;
        Size = size;
        Images = images;
        Masks = masks;
    }

    /// <summary>The number of samples.</summary>
    public int Count { get; }

    /// <summary>The side length S of every (square) image in pixels.</summary>
    public int Size { get; }

    /// <summary>All images, N×3×S×S contiguous, values in [0, 1].</summary>
    public float[] Images { get; }

    /// <summary>All masks, N×1×S×S contiguous, values in [0, 1] (0 or 1 for the synthetic set).</summary>
    public float[] Masks { get; }

    /// <summary>The fraction of samples whose mask is empty (no value above 0.5).</summary>
    public double EmptyFraction
    {
        get
        {
            int plane = Size * Size;
            int empty = 0;
            for (int i = 0; i < Count; i++)
            {
                if (!Masks.AsSpan(i * plane, plane).ContainsAnyExceptInRange(0f, 0.5f))
                {
                    empty++;
                }
            }

            return (double)empty / Count;
        }
    }

    /// <summary>
    /// Generates <paramref name="count"/> samples of <paramref name="size"/>×<paramref name="size"/> pixels.
    /// Sample <c>i</c> depends only on (<paramref name="seed"/>, <paramref name="firstIndex"/> + i), so disjoint
    /// index ranges give disjoint splits of the same infinite data set.
    /// </summary>
    public static PolypDataset Generate(int count, int size, int seed, int firstIndex = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 16);
        int plane = size * size;
        var images = new float[count * 3 * plane];
        var masks = new float[count * plane];
        for (int i = 0; i < count; i++)
        {
            int sampleSeed = SampleSeed(seed, firstIndex + i);
            SampleGenerator.Draw(new Random(sampleSeed), size, images.AsSpan(i * 3 * plane, 3 * plane), masks.AsSpan(i * plane, plane));
        }

        return new PolypDataset(count, size, images, masks);
    }

    /// <summary>
    /// Wraps loaded data: <paramref name="images"/> N×3×S×S in [0, 1] and <paramref name="masks"/> N×1×S×S in [0, 1]
    /// (soft masks are allowed: the structure loss takes them, and the quick held-out score binarises at 0.5).
    /// </summary>
    public static PolypDataset FromArrays(int count, int size, float[] images, float[] masks)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(size);
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(masks);
        if (images.Length != (long)count * 3 * size * size || masks.Length != (long)count * size * size)
        {
            throw new ArgumentException($"Expected {count} images of 3×{size}×{size} and {count} masks of {size}×{size}.", nameof(images));
        }

        return new PolypDataset(count, size, images, masks);
    }

    /// <summary>
    /// Mixes the data-set seed and the sample index into the seed of the sample's <see cref="Random"/> (SplitMix64
    /// finaliser; <see cref="HashCode"/> would differ between processes).
    /// </summary>
    private static int SampleSeed(int seed, int index)
    {
        ulong z = unchecked(((ulong)(uint)seed << 32) + (uint)index + 0x9E3779B97F4A7C15UL);
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        return (int)((z ^ (z >> 31)) & int.MaxValue);
    }

    /// <summary>The images at <paramref name="indices"/> as a new B×3×S×S float32 CPU tensor.</summary>
    public Tensor ImageBatch(ReadOnlySpan<int> indices) => Gather(Images, 3, indices);

    /// <summary>The masks at <paramref name="indices"/> as a new B×1×S×S float32 CPU tensor.</summary>
    public Tensor MaskBatch(ReadOnlySpan<int> indices) => Gather(Masks, 1, indices);

    private Tensor Gather(float[] source, int channels, ReadOnlySpan<int> indices)
    {
        int sample = channels * Size * Size;
        var buffer = new float[indices.Length * sample];
        for (int b = 0; b < indices.Length; b++)
        {
            source.AsSpan(indices[b] * sample, sample).CopyTo(buffer.AsSpan(b * sample));
        }

        return tensor(buffer, [indices.Length, channels, Size, Size]);
    }
}

/// <summary>The full-size binary ground truth of one test image, as the evaluation compares against it.</summary>
/// <param name="Name">The image's file name; its prediction PNG is written as the same name with extension .png.</param>
/// <param name="Width">Width of the original mask.</param>
/// <param name="Height">Height of the original mask.</param>
/// <param name="Mask">Width × Height values, row-major: the mask's gray value &gt; 128.</param>
public sealed record GroundTruth(string Name, int Width, int Height, bool[] Mask);

/// <summary>A named test set: the network's inputs at the training size and each image's full-size ground truth.</summary>
public sealed class TestSet
{
    /// <summary>Creates a test set; <paramref name="truths"/> holds one entry per sample of <paramref name="data"/>.</summary>
    public TestSet(string name, PolypDataset data, IReadOnlyList<GroundTruth> truths)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(truths);
        if (truths.Count != data.Count)
        {
            throw new ArgumentException($"Test set '{name}' has {data.Count} images but {truths.Count} ground truths.", nameof(truths));
        }

        foreach (GroundTruth t in truths)
        {
            if (t.Width < 1 || t.Height < 1 || t.Mask.Length != t.Width * t.Height)
            {
                throw new ArgumentException($"The ground truth of '{t.Name}' does not hold {t.Width}×{t.Height} pixels.", nameof(truths));
            }
        }

        Name = name;
        Data = data;
        Truths = truths;
    }

    /// <summary>The set's name (a folder name, "&lt;folder&gt;-held-out" for a split, or "synthetic-held-out").</summary>
    public string Name { get; }

    /// <summary>The images (and masks) at the training size, in the order of <see cref="Truths"/>.</summary>
    public PolypDataset Data { get; }

    /// <summary>The full-size binary masks the six metrics are computed against.</summary>
    public IReadOnlyList<GroundTruth> Truths { get; }

    /// <summary>A synthetic set: the masks are already binary and at the image size; images are named 0000.png, 0001.png, ….</summary>
    public static TestSet FromSynthetic(string name, PolypDataset data)
    {
        ArgumentNullException.ThrowIfNull(data);
        int plane = data.Size * data.Size;
        var truths = new GroundTruth[data.Count];
        for (int i = 0; i < data.Count; i++)
        {
            var mask = new bool[plane];
            for (int p = 0; p < plane; p++)
            {
                mask[p] = data.Masks[(i * plane) + p] > 0.5f;
            }

            truths[i] = new GroundTruth(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{i:D4}.png"), data.Size, data.Size, mask);
        }

        return new TestSet(name, data, truths);
    }
}

/// <summary>Draws one synthetic sample.</summary>
internal static class SampleGenerator
{
    private const int Waves = 6;

    /// <summary>Renders an image (3 planes) and its mask into the given spans.</summary>
    public static void Draw(Random rng, int size, Span<float> image, Span<float> mask)
    {
        int plane = size * size;
        Span<float> r = image[..plane];
        Span<float> g = image.Slice(plane, plane);
        Span<float> b = image.Slice(2 * plane, plane);

        // Background: mucosa colour, illumination fall-off from a light spot, low-frequency texture, folds.
        float baseR = U(rng, 0.68f, 0.82f), baseG = U(rng, 0.32f, 0.46f), baseB = U(rng, 0.28f, 0.40f);
        float lightX = U(rng, 0.3f, 0.7f), lightY = U(rng, 0.3f, 0.7f), falloff = U(rng, 0.4f, 0.9f);
        var texture = Texture.Random(rng, 1.0f, 4.0f, 0.035f);
        var fine = Texture.Random(rng, 6.0f, 12.0f, 0.015f);
        int folds = rng.Next(1, 4);
        var foldA = new float[folds];
        var foldB = new float[folds];
        var foldF = new float[folds];
        var foldP = new float[folds];
        var foldW = new float[folds];
        var foldVertical = new bool[folds];
        for (int k = 0; k < folds; k++)
        {
            foldA[k] = U(rng, 0.1f, 0.9f);
            foldB[k] = U(rng, 0.03f, 0.15f);
            foldF[k] = U(rng, 2f, 8f);
            foldP[k] = U(rng, 0f, MathF.Tau);
            foldW[k] = U(rng, 0.01f, 0.03f);
            foldVertical[k] = rng.Next(2) == 0;
        }

        for (int y = 0; y < size; y++)
        {
            float v = (y + 0.5f) / size;
            for (int x = 0; x < size; x++)
            {
                float u = (x + 0.5f) / size;
                float dx = u - lightX, dy = v - lightY;
                float light = 1f - (falloff * ((dx * dx) + (dy * dy)));
                float t = texture.At(u, v) + fine.At(u, v);
                float fold = 0f;
                for (int k = 0; k < folds; k++)
                {
                    float along = foldVertical[k] ? v : u, across = foldVertical[k] ? u : v;
                    float d = (across - (foldA[k] + (foldB[k] * MathF.Sin((foldF[k] * along) + foldP[k])))) / foldW[k];
                    fold += 0.18f * MathF.Exp(-d * d);
                }

                int i = (y * size) + x;
                r[i] = (light * (baseR + t)) - fold;
                g[i] = (light * (baseG + (0.8f * t))) - (0.7f * fold);
                b[i] = (light * (baseB + (0.6f * t))) - (0.6f * fold);
            }
        }

        // Polyps: 10 % of the images have none, 20 % have two.
        mask.Clear();
        double roll = rng.NextDouble();
        int polyps = roll < 0.1 ? 0 : roll < 0.8 ? 1 : 2;
        for (int k = 0; k < polyps; k++)
        {
            DrawPolyp(rng, size, r, g, b, mask, baseR, baseG, baseB);
        }

        // Sensor noise, then clamp to [0, 1].
        for (int i = 0; i < image.Length; i++)
        {
            image[i] = Math.Clamp(image[i] + (0.025f * Gaussian(rng)), 0f, 1f);
        }
    }

    private static void DrawPolyp(Random rng, int size, Span<float> r, Span<float> g, Span<float> b, Span<float> mask,
        float baseR, float baseG, float baseB)
    {
        float radius = U(rng, 0.07f, 0.26f);
        float cx = U(rng, radius, 1 - radius), cy = U(rng, radius, 1 - radius);
        float aspect = U(rng, 0.6f, 1f), angle = U(rng, 0f, MathF.PI);
        float cos = MathF.Cos(angle), sin = MathF.Sin(angle);

        // Lumpy outline: the radius varies with the polar angle by a few low harmonics.
        Span<float> harmonic = stackalloc float[3];
        Span<float> phase = stackalloc float[3];
        for (int h = 0; h < 3; h++)
        {
            harmonic[h] = U(rng, 0f, 0.12f);
            phase[h] = U(rng, 0f, MathF.Tau);
        }

        // Appearance: redder or paler than the mucosa, dome shading, own texture, a specular highlight.
        float tint = rng.Next(2) == 0 ? 1f : -1f;
        float pr = baseR + (tint * U(rng, 0.06f, 0.14f)), pg = baseG + U(rng, -0.10f, 0.02f), pb = baseB + U(rng, -0.06f, 0.04f);
        float softness = U(rng, 0.08f, 0.2f); // in units of the radius
        var texture = Texture.Random(rng, 8.0f, 16.0f, 0.03f);
        float hx = U(rng, -0.4f, 0.1f), hy = U(rng, -0.4f, 0.1f);

        for (int y = 0; y < size; y++)
        {
            float v = (y + 0.5f) / size;
            for (int x = 0; x < size; x++)
            {
                float u = (x + 0.5f) / size;
                float dx = u - cx, dy = v - cy;
                float px = ((cos * dx) + (sin * dy)) / radius;
                float py = ((-sin * dx) + (cos * dy)) / (radius * aspect);
                float rho = MathF.Sqrt((px * px) + (py * py));
                float theta = MathF.Atan2(py, px);
                float outline = 1f;
                for (int h = 0; h < 3; h++)
                {
                    outline += harmonic[h] * MathF.Cos(((h + 2) * theta) + phase[h]);
                }

                float s = rho / outline; // < 1 inside the polyp
                if (s > 1.6f)
                {
                    continue;
                }

                int i = (y * size) + x;
                if (s < 1f)
                {
                    mask[i] = 1f;
                }

                float alpha = 1f / (1f + MathF.Exp((s - 1f) / (softness * 0.5f)));
                float dome = 1f + (0.22f * MathF.Max(0f, 1f - (s * s)));
                float t = texture.At(u, v);
                float sx = px - hx, sy = py - hy;
                float spec = 0.5f * MathF.Exp(-((sx * sx) + (sy * sy)) / 0.02f) * MathF.Max(0f, 1f - s);
                r[i] = Lerp(r[i], (pr * dome) + t + spec, alpha);
                g[i] = Lerp(g[i], (pg * dome) + (0.8f * t) + spec, alpha);
                b[i] = Lerp(b[i], (pb * dome) + (0.6f * t) + spec, alpha);
            }
        }
    }

    private static float Lerp(float a, float b, float t) => a + ((b - a) * t);

    private static float U(Random rng, float lo, float hi) => lo + ((hi - lo) * (float)rng.NextDouble());

    private static float Gaussian(Random rng)
    {
        // Box–Muller; 1 - NextDouble() is in (0, 1], so the log is finite.
        double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
        return (float)(Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2));
    }

    /// <summary>A smooth random texture: a sum of plane waves with random direction, frequency and phase.</summary>
    private readonly struct Texture
    {
        private readonly float[] _fx, _fy, _phase;
        private readonly float _amplitude;

        private Texture(float[] fx, float[] fy, float[] phase, float amplitude)
        {
            _fx = fx;
            _fy = fy;
            _phase = phase;
            _amplitude = amplitude;
        }

        public static Texture Random(Random rng, float minCycles, float maxCycles, float amplitude)
        {
            var fx = new float[Waves];
            var fy = new float[Waves];
            var phase = new float[Waves];
            for (int k = 0; k < Waves; k++)
            {
                float cycles = U(rng, minCycles, maxCycles), dir = U(rng, 0f, MathF.Tau);
                fx[k] = MathF.Tau * cycles * MathF.Cos(dir);
                fy[k] = MathF.Tau * cycles * MathF.Sin(dir);
                phase[k] = U(rng, 0f, MathF.Tau);
            }

            return new Texture(fx, fy, phase, amplitude);
        }

        public float At(float u, float v)
        {
            float sum = 0f;
            for (int k = 0; k < Waves; k++)
            {
                sum += MathF.Sin((_fx[k] * u) + (_fy[k] * v) + _phase[k]);
            }

            return _amplitude * sum;
        }
    }
}
