using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;
using LossDsl.Cpu;
using Xunit;

namespace LossDsl.Cpu.Tests;

/// <summary>
/// The runtime stencils against a naive reference in double that loops over every window tap with PyTorch's semantics
/// (stride 1, padding k/2; <c>avg_pool2d</c> with <c>count_include_pad=True</c> divides by k² everywhere; max/min pools
/// ignore the padding), for many plane sizes and windows, k larger than the plane included.
/// </summary>
public unsafe class StencilTests
{
    public static IEnumerable<object[]> Planes()
    {
        (int H, int W)[] sizes = [(1, 1), (1, 7), (7, 1), (2, 3), (3, 2), (5, 5), (9, 13), (13, 9), (17, 33), (31, 31), (40, 23), (3, 100), (100, 3), (64, 64), (37, 71)];
        int[] kernels = [1, 3, 5, 7, 9, 15, 31, 63];
        foreach (var (h, w) in sizes)
        {
            foreach (int k in kernels)
            {
                yield return [h, w, k];
            }
        }
    }

    [Theory]
    [MemberData(nameof(Planes))]
    public void BoxFilterMatchesTheNaiveSumFloat(int h, int w, int k)
    {
        var x = Values(h * w, seed: (h * 131) + (w * 7) + k);
        var expected = NaiveBox(x.Select(v => (double)v).ToArray(), h, w, k);
        var got = new float[h * w];
        fixed (float* s = x, d = got)
        {
            Stencils.BoxFilter(s, d, h, w, k);
        }

        // The exact window mean rounded to float: half an ulp, plus the double running sums' own error (class remarks).
        double absSum = x.Sum(v => Math.Abs((double)v));
        for (int i = 0; i < got.Length; i++)
        {
            double tol = (1.0 / (1 << 24) * Math.Abs(expected[i])) + (1e-13 * absSum);
            Assert.True(Math.Abs(got[i] - expected[i]) <= tol, $"{h}x{w} k={k} at {i}: {got[i]} vs {expected[i]}");
        }
    }

    [Theory]
    [MemberData(nameof(Planes))]
    public void BoxFilterMatchesTheNaiveSumDouble(int h, int w, int k)
    {
        var x = Values(h * w, seed: (h * 17) + (w * 3) + k).Select(v => (double)v * 1.000000123).ToArray();
        var expected = NaiveBox(x, h, w, k);
        var got = new double[h * w];
        fixed (double* s = x, d = got)
        {
            Stencils.BoxFilter(s, d, h, w, k);
        }

        double absSum = x.Sum(Math.Abs);
        for (int i = 0; i < got.Length; i++)
        {
            Assert.True(Math.Abs(got[i] - expected[i]) <= 1e-13 * absSum, $"{h}x{w} k={k} at {i}: {got[i]} vs {expected[i]}");
        }
    }

    [Theory]
    [MemberData(nameof(Planes))]
    public void ExtremumFiltersEqualTheNaiveExtremaFloat(int h, int w, int k)
    {
        var x = Values(h * w, seed: (h * 29) + (w * 11) + k);
        foreach (bool min in new[] { false, true })
        {
            var expected = NaiveExtremum(x.Select(v => (double)v).ToArray(), h, w, k, min);
            var got = new float[h * w];
            fixed (float* s = x, d = got)
            {
                Stencils.ExtremumFilter(s, d, h, w, k, min);
            }

            for (int i = 0; i < got.Length; i++)
            {
                Assert.True((float)expected[i] == got[i], $"{h}x{w} k={k} min={min} at {i}: {got[i]} vs {expected[i]}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Planes))]
    public void ExtremumFiltersEqualTheNaiveExtremaDouble(int h, int w, int k)
    {
        var x = Values(h * w, seed: (h * 5) + (w * 19) + k).Select(v => (double)v / 3).ToArray();
        foreach (bool min in new[] { false, true })
        {
            var expected = NaiveExtremum(x, h, w, k, min);
            var got = new double[h * w];
            fixed (double* s = x, d = got)
            {
                Stencils.ExtremumFilter(s, d, h, w, k, min);
            }

            Assert.Equal(expected, got);
        }
    }

    [Fact]
    public void BoxFilterOfAMaskMatchesTheNaiveSumAtTheBenchmarkSize()
    {
        // A 0/1 disc mask, as the boundary weight of the structure loss filters it, at the benchmark's size and window.
        int h = 352, w = 352, k = 31;
        var x = new float[h * w];
        for (int i = 0; i < h; i++)
        {
            for (int j = 0; j < w; j++)
            {
                x[(i * w) + j] = ((i - 150) * (i - 150)) + ((j - 190) * (j - 190)) < 90 * 90 ? 1f : 0f;
            }
        }

        var expected = NaiveBox(x.Select(v => (double)v).ToArray(), h, w, k);
        var got = new float[h * w];
        fixed (float* s = x, d = got)
        {
            Stencils.BoxFilter(s, d, h, w, k);
        }

        // Sums of 0/1 values are exact in double: only the final rounding to float remains.
        for (int i = 0; i < got.Length; i++)
        {
            Assert.True(Math.Abs(got[i] - expected[i]) <= 1.0 / (1 << 24) * expected[i], $"at {i}: {got[i]} vs {expected[i]}");
        }
    }

    [Fact]
    public void MaxPoolPropagatesNaNToTheWindowsThatHoldIt()
    {
        int h = 9, w = 11, k = 3;
        var x = Values(h * w, seed: 3);
        x[(4 * w) + 5] = float.NaN;
        foreach (bool min in new[] { false, true })
        {
            var got = new float[h * w];
            fixed (float* s = x, d = got)
            {
                Stencils.ExtremumFilter(s, d, h, w, k, min);
            }

            for (int i = 0; i < h; i++)
            {
                for (int j = 0; j < w; j++)
                {
                    bool holds = Math.Abs(i - 4) <= 1 && Math.Abs(j - 5) <= 1;
                    Assert.Equal(holds, float.IsNaN(got[(i * w) + j]));
                }
            }
        }
    }

    [Fact]
    public void PaddingNeverWinsEvenAgainstInfinities()
    {
        int h = 4, w = 5;
        var lows = Enumerable.Repeat(float.NegativeInfinity, h * w).ToArray();
        var highs = Enumerable.Repeat(float.PositiveInfinity, h * w).ToArray();
        var got = new float[h * w];
        fixed (float* l = lows, u = highs, d = got)
        {
            Stencils.ExtremumFilter(l, d, h, w, 7, min: false);
            Assert.All(got, v => Assert.Equal(float.NegativeInfinity, v));
            Stencils.ExtremumFilter(u, d, h, w, 7, min: true);
            Assert.All(got, v => Assert.Equal(float.PositiveInfinity, v));
        }
    }

    [Fact]
    public void EarlierSignaturesIgnoreTheirScratchAndGiveTheSameResult()
    {
        int h = 23, w = 19, k = 9;
        var x = Values(h * w, seed: 8);
        var a = new float[h * w];
        var b = new float[h * w];
        fixed (float* s = x, da = a, db = b)
        {
            Stencils.BoxFilter(s, da, h, w, k, null, null);
            Stencils.BoxFilter(s, db, h, w, k);
            Assert.Equal(a, b);
            Stencils.ExtremumFilter(s, da, h, w, k, null, min: true);
            Stencils.ExtremumFilter(s, db, h, w, k, min: true);
            Assert.Equal(a, b);
        }
    }

    [Fact]
    public void ThreadsRunningDifferentSizesConcurrentlyAgree()
    {
        // Each thread has its own scratch; sizes alternate so that buffers grow while others are in use.
        var cases = Enumerable.Range(0, 64).Select(n => (H: 5 + (n % 7 * 11), W: 3 + (n % 5 * 17), K: 1 + (2 * (n % 9)))).ToArray();
        var serial = cases.Select(c => Run(c.H, c.W, c.K)).ToArray();
        var parallel = new (float[] Box, float[] Max)[cases.Length];
        Parallel.For(0, cases.Length, new ParallelOptions { MaxDegreeOfParallelism = 4 }, n => parallel[n] = Run(cases[n].H, cases[n].W, cases[n].K));
        for (int n = 0; n < cases.Length; n++)
        {
            Assert.Equal(serial[n].Box, parallel[n].Box);
            Assert.Equal(serial[n].Max, parallel[n].Max);
        }

        static (float[] Box, float[] Max) Run(int h, int w, int k)
        {
            var x = Values(h * w, seed: (h * w) + k);
            var box = new float[h * w];
            var max = new float[h * w];
            fixed (float* s = x, b = box, m = max)
            {
                Stencils.BoxFilter(s, b, h, w, k);
                Stencils.ExtremumFilter(s, m, h, w, k, min: false);
            }

            return (box, max);
        }
    }

    [Theory]
    [InlineData(0, 3, 3)]
    [InlineData(3, 0, 3)]
    [InlineData(3, 3, 4)]
    [InlineData(3, 3, -1)]
    public void RejectsEmptyPlanesAndEvenWindows(int h, int w, int k)
    {
        var x = new float[Math.Max(1, h * w)];
        var d = new float[x.Length];
        Assert.Throws<ArgumentOutOfRangeException>(() => Box(x, d, h, w, k));
        Assert.Throws<ArgumentOutOfRangeException>(() => Max(x, d, h, w, k));

        static void Box(float[] x, float[] d, int h, int w, int k)
        {
            fixed (float* s = x, o = d)
            {
                Stencils.BoxFilter(s, o, h, w, k);
            }
        }

        static void Max(float[] x, float[] d, int h, int w, int k)
        {
            fixed (float* s = x, o = d)
            {
                Stencils.ExtremumFilter(s, o, h, w, k, min: false);
            }
        }
    }

    private static float[] Values(int n, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)((rng.NextDouble() * 4) - 2)).ToArray();
    }

    private static double[] NaiveBox(double[] x, int h, int w, int k)
    {
        int pad = k / 2;
        var y = new double[h * w];
        for (int i = 0; i < h; i++)
        {
            for (int j = 0; j < w; j++)
            {
                double s = 0;
                for (int r = i - pad; r <= i + pad; r++)
                {
                    for (int c = j - pad; c <= j + pad; c++)
                    {
                        s += r >= 0 && r < h && c >= 0 && c < w ? x[(r * w) + c] : 0;
                    }
                }

                y[(i * w) + j] = s / ((double)k * k);
            }
        }

        return y;
    }

    private static double[] NaiveExtremum(double[] x, int h, int w, int k, bool min)
    {
        int pad = k / 2;
        var y = new double[h * w];
        for (int i = 0; i < h; i++)
        {
            for (int j = 0; j < w; j++)
            {
                double m = min ? double.PositiveInfinity : double.NegativeInfinity;
                for (int r = Math.Max(0, i - pad); r <= Math.Min(h - 1, i + pad); r++)
                {
                    for (int c = Math.Max(0, j - pad); c <= Math.Min(w - 1, j + pad); c++)
                    {
                        m = min ? Math.Min(m, x[(r * w) + c]) : Math.Max(m, x[(r * w) + c]);
                    }
                }

                y[(i * w) + j] = m;
            }
        }

        return y;
    }
}
