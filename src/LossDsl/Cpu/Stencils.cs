using System;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace LossDsl.Cpu;

/// <summary>
/// Stencils over one H×W plane for generated CPU code, with PyTorch's pooling semantics at stride 1 and padding k/2.
/// The box filter is separable running sums (O(1) per pixel whatever k is); extrema are separable passes.
/// </summary>
public static unsafe class Stencils
{
    /// <summary>
    /// <c>F.avg_pool2d(x, k, 1, k/2)</c> with <c>count_include_pad=True</c> over one plane: window sums with zeros outside
    /// the image, divided by k². Running sums in double: a horizontal pass into <paramref name="tmp"/>, then a vertical pass.
    /// </summary>
    /// <param name="src">The plane (H·W values, row-major).</param>
    /// <param name="dst">The output plane; may not alias <paramref name="src"/>.</param>
    /// <param name="h">Rows.</param>
    /// <param name="w">Columns.</param>
    /// <param name="k">Odd window size.</param>
    /// <param name="tmp">Scratch of H·W doubles.</param>
    /// <param name="colSums">Scratch of W doubles.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void BoxFilter(float* src, float* dst, int h, int w, int k, double* tmp, double* colSums)
    {
        HorizontalSums(src, h, w, k, tmp);
        int pad = k / 2;
        double scale = 1.0 / ((double)k * k);
        VerticalInit(tmp, h, w, pad, colSums);
        for (int i = 0; i < h; i++)
        {
            float* o = dst + ((long)i * w);
            for (int j = 0; j < w; j++)
            {
                o[j] = (float)(colSums[j] * scale);
            }

            VerticalSlide(tmp, h, w, pad, i, colSums);
        }
    }

    /// <inheritdoc cref="BoxFilter(float*, float*, int, int, int, double*, double*)"/>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void BoxFilter(double* src, double* dst, int h, int w, int k, double* tmp, double* colSums)
    {
        HorizontalSums(src, h, w, k, tmp);
        int pad = k / 2;
        double scale = 1.0 / ((double)k * k);
        VerticalInit(tmp, h, w, pad, colSums);
        for (int i = 0; i < h; i++)
        {
            double* o = dst + ((long)i * w);
            for (int j = 0; j < w; j++)
            {
                o[j] = colSums[j] * scale;
            }

            VerticalSlide(tmp, h, w, pad, i, colSums);
        }
    }

    private static void HorizontalSums<T>(T* src, int h, int w, int k, double* tmp)
        where T : unmanaged, INumberBase<T>
    {
        int pad = k / 2;
        for (int i = 0; i < h; i++)
        {
            T* row = src + ((long)i * w);
            double* o = tmp + ((long)i * w);
            double s = 0;
            for (int j = 0; j <= pad && j < w; j++)
            {
                s += double.CreateTruncating(row[j]);
            }

            for (int j = 0; j < w; j++)
            {
                o[j] = s;
                int add = j + pad + 1, sub = j - pad;
                if (add < w)
                {
                    s += double.CreateTruncating(row[add]);
                }

                if (sub >= 0)
                {
                    s -= double.CreateTruncating(row[sub]);
                }
            }
        }
    }

    private static void VerticalInit(double* tmp, int h, int w, int pad, double* colSums)
    {
        new Span<double>(colSums, w).Clear();
        for (int r = 0; r <= pad && r < h; r++)
        {
            Add(colSums, tmp + ((long)r * w), w, 1.0);
        }
    }

    private static void VerticalSlide(double* tmp, int h, int w, int pad, int i, double* colSums)
    {
        int add = i + pad + 1, sub = i - pad;
        if (add < h)
        {
            Add(colSums, tmp + ((long)add * w), w, 1.0);
        }

        if (sub >= 0)
        {
            Add(colSums, tmp + ((long)sub * w), w, -1.0);
        }
    }

    private static void Add(double* acc, double* row, int w, double sign)
    {
        int j = 0;
        var vs = new Vector<double>(sign);
        for (; j <= w - Vector<double>.Count; j += Vector<double>.Count)
        {
            var a = new Vector<double>(new ReadOnlySpan<double>(acc + j, Vector<double>.Count));
            var b = new Vector<double>(new ReadOnlySpan<double>(row + j, Vector<double>.Count));
            (a + (b * vs)).CopyTo(new Span<double>(acc + j, Vector<double>.Count));
        }

        for (; j < w; j++)
        {
            acc[j] += sign * row[j];
        }
    }

    /// <summary>
    /// <c>F.max_pool2d(x, k, 1, k/2)</c> over one plane (<paramref name="min"/> false), or its erosion counterpart
    /// <c>-max_pool2d(-x)</c> (<paramref name="min"/> true): padding never wins; NaN propagates. Separable: rows, then columns.
    /// </summary>
    /// <param name="src">The plane.</param>
    /// <param name="dst">The output plane; may not alias <paramref name="src"/>.</param>
    /// <param name="h">Rows.</param>
    /// <param name="w">Columns.</param>
    /// <param name="k">Odd window size.</param>
    /// <param name="tmp">Scratch of H·W doubles.</param>
    /// <param name="min">True for the window minimum.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ExtremumFilter(float* src, float* dst, int h, int w, int k, double* tmp, bool min)
    {
        Extremum(src, h, w, k, tmp, min);
        int pad = k / 2;
        for (int i = 0; i < h; i++)
        {
            for (int j = 0; j < w; j++)
            {
                double m = double.NaN;
                bool first = true;
                for (int r = Math.Max(0, i - pad); r <= Math.Min(h - 1, i + pad); r++)
                {
                    m = Pick(m, tmp[((long)r * w) + j], min, ref first);
                }

                dst[((long)i * w) + j] = (float)m;
            }
        }
    }

    /// <inheritdoc cref="ExtremumFilter(float*, float*, int, int, int, double*, bool)"/>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ExtremumFilter(double* src, double* dst, int h, int w, int k, double* tmp, bool min)
    {
        Extremum(src, h, w, k, tmp, min);
        int pad = k / 2;
        for (int i = 0; i < h; i++)
        {
            for (int j = 0; j < w; j++)
            {
                double m = double.NaN;
                bool first = true;
                for (int r = Math.Max(0, i - pad); r <= Math.Min(h - 1, i + pad); r++)
                {
                    m = Pick(m, tmp[((long)r * w) + j], min, ref first);
                }

                dst[((long)i * w) + j] = m;
            }
        }
    }

    private static void Extremum<T>(T* src, int h, int w, int k, double* tmp, bool min)
        where T : unmanaged, INumberBase<T>
    {
        int pad = k / 2;
        for (int i = 0; i < h; i++)
        {
            T* row = src + ((long)i * w);
            for (int j = 0; j < w; j++)
            {
                double m = double.NaN;
                bool first = true;
                for (int c = Math.Max(0, j - pad); c <= Math.Min(w - 1, j + pad); c++)
                {
                    m = Pick(m, double.CreateTruncating(row[c]), min, ref first);
                }

                tmp[((long)i * w) + j] = m;
            }
        }
    }

    private static double Pick(double m, double v, bool min, ref bool first)
    {
        if (first)
        {
            first = false;
            return v;
        }

        if (double.IsNaN(m) || double.IsNaN(v))
        {
            return double.NaN;
        }

        return min ? Math.Min(m, v) : Math.Max(m, v);
    }
}
