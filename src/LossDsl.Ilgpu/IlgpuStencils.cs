using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Algorithms.ScanReduceOperations;

namespace LossDsl.Ilgpu;

/// <summary>
/// Separable stencil kernels shared by the generated ILGPU backends (loaded once per runner). Every pass is coalesced:
/// neighbouring threads read and write neighbouring addresses. Windows are clipped at the
/// borders: the box filter divides by k² everywhere (PyTorch's <c>count_include_pad=True</c>), the extremum filters take
/// the extremum over the valid part of the window (padding with ∓∞).
/// </summary>
public static class IlgpuStencils
{
    /// <summary>The fewest rows a thread of <see cref="BoxColumns"/> slides its window over (more for wide windows, so that starting a window costs at most one extra load per pixel).</summary>
    public const int MinColumnSegment = 32;

    /// <summary>Tiles per row of <see cref="BoxRows"/>: one group of <paramref name="groupSize"/> threads per tile.</summary>
    /// <param name="w">Columns per row.</param>
    /// <param name="groupSize">Threads per group (the launch's group size).</param>
    /// <returns>⌈w / groupSize⌉.</returns>
    public static int RowTiles(int w, int groupSize) => (w + groupSize - 1) / groupSize;

    /// <summary>Rows per thread of <see cref="BoxColumns"/>: <see cref="MinColumnSegment"/>, or k when that is larger.</summary>
    /// <param name="k">Odd kernel size.</param>
    /// <returns>The segment length.</returns>
    public static int ColumnSegment(int k) => k > MinColumnSegment ? k : MinColumnSegment;

    /// <summary>Threads of <see cref="BoxColumns"/>: one per column and segment of <see cref="ColumnSegment"/> rows, over every plane.</summary>
    /// <param name="planes">Number of planes.</param>
    /// <param name="h">Rows per plane.</param>
    /// <param name="w">Columns per row.</param>
    /// <param name="k">Odd kernel size.</param>
    /// <returns>planes · ⌈h / segment⌉ · w.</returns>
    public static int ColumnThreads(int planes, int h, int w, int k) => planes * ((h + ColumnSegment(k) - 1) / ColumnSegment(k)) * w;

    /// <summary>
    /// Horizontal box pass as a group scan (explicitly grouped; coalesced): group g handles row g / tiles and the tile of
    /// <c>Group.DimX</c> columns from x0 = (g mod tiles) · <c>Group.DimX</c>, one thread per column. Thread t loads the
    /// pixel entering its window, src[x + rad], and the one leaving it, src[x − rad − 1] (neighbouring threads read
    /// neighbouring addresses); an inclusive group scan of their differences in double, started by the sum of the k − 1
    /// pixels before the tile's first window (a group reduction), gives every window sum: O(1) loads per pixel plus k − 1 per
    /// tile, whatever k is. Pixels outside the row count as 0.
    /// </summary>
    /// <param name="src">Source, contiguous planes of h × w.</param>
    /// <param name="dst">Receives the row sums (not yet divided).</param>
    /// <param name="w">Columns per row.</param>
    /// <param name="k">Odd kernel size.</param>
    /// <param name="tiles">Tiles per row (<see cref="RowTiles"/> of the launch's group size).</param>
    public static void BoxRows(ArrayView<float> src, ArrayView<float> dst, int w, int k, int tiles)
    {
        int rad = k / 2;
        int row = Grid.IdxX / tiles;
        int x0 = (Grid.IdxX - (row * tiles)) * Group.DimX;
        int t = Group.IdxX;
        int b = row * w;
        int x = x0 + t;

        // The k − 1 pixels src[x0 − rad .. x0 + rad − 1]: with src[x0 + rad] they make the first window.
        double head = 0;
        for (int j = t; j < 2 * rad; j += Group.DimX)
        {
            head += Load(src, b, w, x0 - rad + j);
        }

        head = GroupExtensions.Reduce<double, AddDouble>(head); // valid in the first warp
        double d = Load(src, b, w, x + rad);
        if (t == 0)
        {
            d += head;
        }
        else
        {
            d -= Load(src, b, w, x - rad - 1);
        }

        double sum = GroupExtensions.InclusiveScan<double, AddDouble>(d);
        if (x < w)
        {
            dst[b + x] = (float)sum;
        }
    }

    /// <summary>
    /// Vertical box pass, one thread per column and segment of <see cref="ColumnSegment"/> rows (coalesced: neighbouring
    /// threads are neighbouring columns): the window sum of the row above the segment (at most k loads), then a running
    /// sum down the segment, divided by k².
    /// </summary>
    /// <param name="index">The thread: (plane · segments + segment) · w + x.</param>
    /// <param name="src">The row sums.</param>
    /// <param name="dst">Receives the box average.</param>
    /// <param name="h">Rows per plane.</param>
    /// <param name="w">Columns per row.</param>
    /// <param name="k">Odd kernel size.</param>
    /// <param name="segment">Rows per thread (<see cref="ColumnSegment"/>).</param>
    public static void BoxColumns(Index1D index, ArrayView<float> src, ArrayView<float> dst, int h, int w, int k, int segment)
    {
        int rad = k / 2;
        int segments = (h + segment - 1) / segment;
        int rest = index / w;
        int x = index - (rest * w);
        int p = rest / segments;
        int y0 = (rest - (p * segments)) * segment;
        int y1 = y0 + segment < h ? y0 + segment : h;
        int b = (p * h * w) + x;
        double scale = 1.0 / ((double)k * k);

        // The window of row y0 − 1: rows y0 − rad − 1 .. y0 + rad − 1, clipped.
        double s = 0;
        int lo = y0 - rad - 1 < 0 ? 0 : y0 - rad - 1;
        int hi = y0 + rad < h ? y0 + rad : h;
        for (int y = lo; y < hi; y++)
        {
            s += src[b + (y * w)];
        }

        for (int y = y0; y < y1; y++)
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

    private static double Load(ArrayView<float> src, int b, int w, int x) => x >= 0 && x < w ? src[b + x] : 0.0;

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

    /// <summary>
    /// The window over slices of a volume (before the per-slice passes), one thread per element, O(k): the sum of the k
    /// slices around it divided by k, slices outside the volume counting as 0 (<c>avg_pool3d</c>'s
    /// <c>count_include_pad</c>; the per-slice passes divide by k² more).
    /// </summary>
    /// <param name="index">The element.</param>
    /// <param name="src">Source, contiguous planes of d slices of <paramref name="slice"/> elements.</param>
    /// <param name="dst">Receives the mean over the window of slices.</param>
    /// <param name="d">Slices per plane.</param>
    /// <param name="slice">Elements per slice (H·W).</param>
    /// <param name="k">Odd kernel size.</param>
    public static void BoxDepth(Index1D index, ArrayView<float> src, ArrayView<float> dst, int d, int slice, int k)
    {
        int rad = k / 2;
        int i = index;
        int z = (i / slice) % d;
        int b = i - (z * slice);
        int lo = z - rad < 0 ? 0 : z - rad;
        int hi = z + rad >= d ? d - 1 : z + rad;
        double s = 0;
        for (int q = lo; q <= hi; q++)
        {
            s += src[b + (q * slice)];
        }

        dst[i] = (float)(s / k);
    }

    /// <summary>The extremum over the k slices around each element (slices outside the volume never win), one thread per element, O(k).</summary>
    /// <param name="index">The element.</param>
    /// <param name="src">Source, contiguous planes of d slices of <paramref name="slice"/> elements.</param>
    /// <param name="dst">Receives the extremum over the window of slices.</param>
    /// <param name="d">Slices per plane.</param>
    /// <param name="slice">Elements per slice (H·W).</param>
    /// <param name="k">Odd kernel size.</param>
    /// <param name="min">1 for the minimum, 0 for the maximum.</param>
    public static void ExtremumDepth(Index1D index, ArrayView<float> src, ArrayView<float> dst, int d, int slice, int k, int min)
    {
        int rad = k / 2;
        int i = index;
        int z = (i / slice) % d;
        int b = i - (z * slice);
        int lo = z - rad < 0 ? 0 : z - rad;
        int hi = z + rad >= d ? d - 1 : z + rad;
        float m = src[b + (lo * slice)];
        for (int q = lo + 1; q <= hi; q++)
        {
            float v = src[b + (q * slice)];
            m = min != 0 ? (v < m ? v : m) : (v > m ? v : m);
        }

        dst[i] = m;
    }
}
