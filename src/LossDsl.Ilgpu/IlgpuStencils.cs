using ILGPU;

namespace LossDsl.Ilgpu;

/// <summary>
/// Separable stencil kernels shared by the generated ILGPU backends (loaded once per runner). Windows are clipped at the
/// borders: the box filter divides by k² everywhere (PyTorch's <c>count_include_pad=True</c>), the extremum filters take
/// the extremum over the valid part of the window (padding with ∓∞).
/// </summary>
public static class IlgpuStencils
{
    /// <summary>Horizontal box pass, one thread per row: a running sum over the k-wide window, O(1) per pixel.</summary>
    /// <param name="row">The row (over every plane: plane · h + y).</param>
    /// <param name="src">Source, contiguous planes of h × w.</param>
    /// <param name="dst">Receives the row sums (not yet divided).</param>
    /// <param name="w">Columns per row.</param>
    /// <param name="k">Odd kernel size.</param>
    public static void BoxRows(Index1D row, ArrayView<float> src, ArrayView<float> dst, int w, int k)
    {
        int rad = k / 2;
        int b = row * w;
        double s = 0;
        for (int j = 0; j < rad && j < w; j++)
        {
            s += src[b + j];
        }

        for (int x = 0; x < w; x++)
        {
            if (x + rad < w)
            {
                s += src[b + x + rad];
            }

            if (x - rad - 1 >= 0)
            {
                s -= src[b + x - rad - 1];
            }

            dst[b + x] = (float)s;
        }
    }

    /// <summary>Vertical box pass, one thread per column: a running sum over the k-tall window of the row sums, divided by k².</summary>
    /// <param name="column">The column (over every plane: plane · w + x).</param>
    /// <param name="src">The row sums.</param>
    /// <param name="dst">Receives the box average.</param>
    /// <param name="h">Rows per plane.</param>
    /// <param name="w">Columns per row.</param>
    /// <param name="k">Odd kernel size.</param>
    public static void BoxColumns(Index1D column, ArrayView<float> src, ArrayView<float> dst, int h, int w, int k)
    {
        int rad = k / 2;
        int p = column / w;
        int b = (p * h * w) + (column - (p * w));
        double scale = 1.0 / ((double)k * k);
        double s = 0;
        for (int j = 0; j < rad && j < h; j++)
        {
            s += src[b + (j * w)];
        }

        for (int y = 0; y < h; y++)
        {
            if (y + rad < h)
            {
                s += src[b + ((y + rad) * w)];
            }

            if (y - rad - 1 >= 0)
            {
                s -= src[b + ((y - rad - 1) * w)];
            }

            dst[b + (y * w)] = (float)(s * scale);
        }
    }

    /// <summary>Horizontal extremum pass, one thread per pixel, O(k).</summary>
    /// <param name="index">The pixel.</param>
    /// <param name="src">Source, contiguous planes of h × w.</param>
    /// <param name="dst">Receives the row extremum.</param>
    /// <param name="w">Columns per row.</param>
    /// <param name="k">Odd kernel size.</param>
    /// <param name="min">1 for the minimum, 0 for the maximum.</param>
    public static void ExtremumRows(Index1D index, ArrayView<float> src, ArrayView<float> dst, int w, int k, int min)
    {
        int rad = k / 2;
        int i = index;
        int x = i % w;
        int b = i - x;
        int lo = x - rad < 0 ? 0 : x - rad;
        int hi = x + rad >= w ? w - 1 : x + rad;
        float m = src[b + lo];
        for (int j = lo + 1; j <= hi; j++)
        {
            float v = src[b + j];
            m = min != 0 ? (v < m ? v : m) : (v > m ? v : m);
        }

        dst[i] = m;
    }

    /// <summary>Vertical extremum pass, one thread per pixel, O(k).</summary>
    /// <param name="index">The pixel.</param>
    /// <param name="src">The row extrema.</param>
    /// <param name="dst">Receives the extremum over the window.</param>
    /// <param name="h">Rows per plane.</param>
    /// <param name="w">Columns per row.</param>
    /// <param name="k">Odd kernel size.</param>
    /// <param name="min">1 for the minimum, 0 for the maximum.</param>
    public static void ExtremumColumns(Index1D index, ArrayView<float> src, ArrayView<float> dst, int h, int w, int k, int min)
    {
        int rad = k / 2;
        int i = index;
        int y = (i / w) % h;
        int b = i - (y * w);
        int lo = y - rad < 0 ? 0 : y - rad;
        int hi = y + rad >= h ? h - 1 : y + rad;
        float m = src[b + (lo * w)];
        for (int j = lo + 1; j <= hi; j++)
        {
            float v = src[b + (j * w)];
            m = min != 0 ? (v < m ? v : m) : (v > m ? v : m);
        }

        dst[i] = m;
    }
}
