using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace LossDsl.Cpu;

/// <summary>
/// Stencils over one H×W plane for generated CPU code, with PyTorch's pooling semantics at stride 1 and padding k/2.
/// Both filters are separable and O(1) per pixel whatever k is, and both stream over the plane: a vertical pass, vectorised
/// across the columns, produces one row at a time into a tile of <c>Vector&lt;double&gt;.Count</c> rows stored column-major
/// (one vector lane per row); the horizontal pass then runs along the tile with the rows in the lanes, so that it is
/// vectorised too, and writes the tile's output rows. Scratch is a per-thread buffer of a few rows (the vertical extremum
/// pass needs k rows), never a temporary of the plane's size.
/// </summary>
/// <remarks>
/// <para>
/// Box filter, error bound: the window sums are running sums in double (each step adds the entering value and subtracts
/// the leaving one; inputs convert to double exactly). After n steps along a line, a running sum differs from the exact
/// window sum by at most n·2⁻⁵³·M, where M bounds the absolute partial sums seen on that line, which is at most the sum of
/// |x| over the line (a row, then a column of row sums). For the 352-wide planes of the benchmark that is below
/// 10⁻¹³·Σ|x| — far under float32's own rounding of the result (2⁻²⁴ relative), unless the line holds values more than
/// about 10⁷ times larger than the window's own sum. PyTorch sums each window directly in float32 (an error bound of
/// (k²−1)·2⁻²⁴·Σ|x| over the window), so on float32 inputs this filter is the more accurate of the two. Running sums in
/// float32 were rejected: their error grows with the line length and is not bounded by the window's values.
/// </para>
/// <para>
/// Extrema use van Herk / Gil–Werman: the (padded) line is cut into blocks of k; a window of k covers the suffix of one
/// block and the prefix of the next, so its extremum is one operation on a running block suffix and a running block
/// prefix (three operations per pixel per direction, whatever k). Extrema are exact in any precision: the vertical pass
/// works in the input type, the horizontal one in double (exact for float32). NaN propagates (IEEE 754-2019
/// maximum/minimum, as <see cref="Vector.Max{T}(Vector{T}, Vector{T})"/> in .NET 9 and later); the padding (−∞ for max,
/// +∞ for min) never wins.
/// </para>
/// </remarks>
public static unsafe class Stencils
{
    [ThreadStatic]
    private static byte[]? t_scratch;

    /// <summary>
    /// <c>F.avg_pool2d(x, k, 1, k/2)</c> with <c>count_include_pad=True</c> over one plane: window sums with zeros outside
    /// the image, divided by k². Running sums in double (see the error bound in the class remarks).
    /// </summary>
    /// <param name="src">The plane (H·W values, row-major).</param>
    /// <param name="dst">The output plane; may not overlap <paramref name="src"/>.</param>
    /// <param name="h">Rows.</param>
    /// <param name="w">Columns.</param>
    /// <param name="k">Odd window size.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void BoxFilter(float* src, float* dst, int h, int w, int k) => Box(src, dst, h, w, k);

    /// <inheritdoc cref="BoxFilter(float*, float*, int, int, int)"/>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void BoxFilter(double* src, double* dst, int h, int w, int k) => Box(src, dst, h, w, k);

    /// <summary>
    /// As <see cref="BoxFilter(float*, float*, int, int, int)"/>; the scratch arguments of earlier versions are not used
    /// (the filter needs only a per-thread buffer of a few rows). Kept for generated code that still passes them.
    /// </summary>
    /// <param name="src">The plane (H·W values, row-major).</param>
    /// <param name="dst">The output plane; may not overlap <paramref name="src"/>.</param>
    /// <param name="h">Rows.</param>
    /// <param name="w">Columns.</param>
    /// <param name="k">Odd window size.</param>
    /// <param name="tmp">Not used.</param>
    /// <param name="colSums">Not used.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void BoxFilter(float* src, float* dst, int h, int w, int k, double* tmp, double* colSums) => Box(src, dst, h, w, k);

    /// <inheritdoc cref="BoxFilter(float*, float*, int, int, int, double*, double*)"/>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void BoxFilter(double* src, double* dst, int h, int w, int k, double* tmp, double* colSums) => Box(src, dst, h, w, k);

    /// <summary>
    /// <c>F.max_pool2d(x, k, 1, k/2)</c> over one plane (<paramref name="min"/> false), or its erosion counterpart
    /// <c>-max_pool2d(-x)</c> (<paramref name="min"/> true): padding never wins; NaN propagates. Van Herk / Gil–Werman,
    /// O(1) per pixel.
    /// </summary>
    /// <param name="src">The plane.</param>
    /// <param name="dst">The output plane; may not overlap <paramref name="src"/>.</param>
    /// <param name="h">Rows.</param>
    /// <param name="w">Columns.</param>
    /// <param name="k">Odd window size.</param>
    /// <param name="min">True for the window minimum.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ExtremumFilter(float* src, float* dst, int h, int w, int k, bool min) => Extremum(src, dst, h, w, k, min);

    /// <inheritdoc cref="ExtremumFilter(float*, float*, int, int, int, bool)"/>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ExtremumFilter(double* src, double* dst, int h, int w, int k, bool min) => Extremum(src, dst, h, w, k, min);

    /// <summary>
    /// As <see cref="ExtremumFilter(float*, float*, int, int, int, bool)"/>; the scratch argument of earlier versions is
    /// not used. Kept for generated code that still passes it.
    /// </summary>
    /// <param name="src">The plane.</param>
    /// <param name="dst">The output plane; may not overlap <paramref name="src"/>.</param>
    /// <param name="h">Rows.</param>
    /// <param name="w">Columns.</param>
    /// <param name="k">Odd window size.</param>
    /// <param name="tmp">Not used.</param>
    /// <param name="min">True for the window minimum.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ExtremumFilter(float* src, float* dst, int h, int w, int k, double* tmp, bool min) => Extremum(src, dst, h, w, k, min);

    /// <inheritdoc cref="ExtremumFilter(float*, float*, int, int, int, double*, bool)"/>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ExtremumFilter(double* src, double* dst, int h, int w, int k, double* tmp, bool min) => Extremum(src, dst, h, w, k, min);

    /// <summary>
    /// <c>F.avg_pool3d(x, k, 1, k/2)</c> with <c>count_include_pad=True</c> over one plane of D slices of H×W (divisor k³),
    /// separably: the k×k filter of each slice, then a running mean over k slices; for D = 1 exactly
    /// <see cref="BoxFilter(float*, float*, int, int, int)"/> (an image's window has no depth).
    /// </summary>
    /// <param name="src">The plane (D·H·W values, slice-major).</param>
    /// <param name="dst">The output plane; may not overlap <paramref name="src"/>.</param>
    /// <param name="d">Slices.</param>
    /// <param name="h">Rows.</param>
    /// <param name="w">Columns.</param>
    /// <param name="k">Odd window size.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void BoxFilter(float* src, float* dst, int d, int h, int w, int k) => Volume(src, dst, d, h, w, k, box: true, min: false);

    /// <inheritdoc cref="BoxFilter(float*, float*, int, int, int, int)"/>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void BoxFilter(double* src, double* dst, int d, int h, int w, int k) => Volume(src, dst, d, h, w, k, box: true, min: false);

    /// <summary>
    /// <c>F.max_pool3d(x, k, 1, k/2)</c> (or its minimum counterpart) over one plane of D slices: the k×k extremum of each
    /// slice, then the extremum over k slices (padding never wins; NaN propagates); for D = 1 exactly
    /// <see cref="ExtremumFilter(float*, float*, int, int, int, bool)"/>.
    /// </summary>
    /// <param name="src">The plane (D·H·W values, slice-major).</param>
    /// <param name="dst">The output plane; may not overlap <paramref name="src"/>.</param>
    /// <param name="d">Slices.</param>
    /// <param name="h">Rows.</param>
    /// <param name="w">Columns.</param>
    /// <param name="k">Odd window size.</param>
    /// <param name="min">True for the window minimum.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ExtremumFilter(float* src, float* dst, int d, int h, int w, int k, bool min) => Volume(src, dst, d, h, w, k, box: false, min);

    /// <inheritdoc cref="ExtremumFilter(float*, float*, int, int, int, int, bool)"/>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ExtremumFilter(double* src, double* dst, int d, int h, int w, int k, bool min) => Volume(src, dst, d, h, w, k, box: false, min);

    // ------------------------------------------------------------------ volumes

    /// <summary>Each slice filtered in 2-D into <paramref name="dst"/>, then the window over slices applied in place.</summary>
    private static void Volume<T>(T* src, T* dst, int d, int h, int w, int k, bool box, bool min)
        where T : unmanaged, INumber<T>
    {
        if (d <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(d), d, "The depth must be positive.");
        }

        long slice = (long)h * w;
        for (int z = 0; z < d; z++)
        {
            if (box)
            {
                Box(src + (z * slice), dst + (z * slice), h, w, k);
            }
            else
            {
                Extremum(src + (z * slice), dst + (z * slice), h, w, k, min);
            }
        }

        if (d > 1)
        {
            AcrossSlices(dst, d, slice, k, box, min);
        }
    }

    /// <summary>
    /// The window over k slices at every position of a slice, in place: a running sum divided by k (zeros outside the
    /// volume) or the extremum of the slices inside the volume. Columns are taken in blocks of consecutive positions, copied
    /// to a double buffer (D per position), so the writes do not disturb the values still to be read.
    /// </summary>
    private static void AcrossSlices<T>(T* data, int d, long slice, int k, bool box, bool min)
        where T : unmanaged, INumber<T>
    {
        const int Block = 64;
        int pad = k / 2;
        double* column = (double*)Scratch((long)d * Block * sizeof(double));
        for (long i0 = 0; i0 < slice; i0 += Block)
        {
            int b = (int)Math.Min(Block, slice - i0);
            for (int z = 0; z < d; z++)
            {
                T* row = data + (z * slice) + i0;
                for (int j = 0; j < b; j++)
                {
                    column[(z * Block) + j] = double.CreateTruncating(row[j]);
                }
            }

            for (int j = 0; j < b; j++)
            {
                double running = 0;
                if (box)
                {
                    for (int z = 0; z < pad && z < d; z++)
                    {
                        running += column[(z * Block) + j];
                    }
                }

                for (int z = 0; z < d; z++)
                {
                    double value;
                    if (box)
                    {
                        if (z + pad < d)
                        {
                            running += column[((z + pad) * Block) + j];
                        }

                        if (z - pad - 1 >= 0)
                        {
                            running -= column[((z - pad - 1) * Block) + j];
                        }

                        value = running / k;
                    }
                    else
                    {
                        value = double.NaN;
                        bool first = true;
                        for (int q = Math.Max(0, z - pad); q <= Math.Min(d - 1, z + pad); q++)
                        {
                            double v = column[(q * Block) + j];
                            if (first || double.IsNaN(v) || (!double.IsNaN(value) && (min ? v < value : v > value)))
                            {
                                value = v;
                                first = false;
                            }

                            if (double.IsNaN(value))
                            {
                                break;
                            }
                        }
                    }

                    data[(z * slice) + i0 + j] = T.CreateTruncating(value);
                }
            }
        }
    }

    // ------------------------------------------------------------------ box filter

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Box<T>(T* src, T* dst, int h, int w, int k)
        where T : unmanaged, INumberBase<T>
    {
        CheckArguments(h, w, k);
        int lanes = Vector<double>.Count;
        int pad = k / 2;
        bool wide = pad >= w; // every horizontal window covers the whole row
        int pw = wide ? 0 : w + (2 * pad);
        double scale = 1.0 / ((double)k * k);

        byte* scratch = Scratch(((long)w + ((long)pw * lanes) + (2L * w * lanes)) * sizeof(double));
        double* col = (double*)scratch;
        double* tin = col + w;
        double* tout = tin + ((long)pw * lanes);
        double* rowsBuf = tout + ((long)w * lanes);
        new Span<double>(tin, pw * lanes).Clear(); // the zero padding; the interior is overwritten per tile

        // Column sums of the vertical window of row 0: rows [0, pad] (rows outside the image add zero).
        new Span<double>(col, w).Clear();
        for (int r = 0; r <= pad && r < h; r++)
        {
            Accumulate(col, src + ((long)r * w), w, subtract: false);
        }

        for (int i0 = 0; i0 < h; i0 += lanes)
        {
            int rows = Math.Min(lanes, h - i0);
            for (int r = 0; r < rows; r++)
            {
                int i = i0 + r;
                if (wide)
                {
                    double s = 0;
                    for (int j = 0; j < w; j++)
                    {
                        s += col[j];
                    }

                    new Span<T>(dst + ((long)i * w), w).Fill(FromDouble<T>(s * scale));
                }
                else
                {
                    new Span<double>(col, w).CopyTo(new Span<double>(rowsBuf + ((long)r * w), w));
                }

                int add = i + pad + 1, sub = i - pad;
                if (add < h)
                {
                    Accumulate(col, src + ((long)add * w), w, subtract: false);
                }

                if (sub >= 0)
                {
                    Accumulate(col, src + ((long)sub * w), w, subtract: true);
                }
            }

            if (!wide)
            {
                TransposeIn(rowsBuf, tin + ((long)pad * lanes), w, rows);
                HorizontalSums(tin, tout, w, k, scale);
                Gather(tout, dst + ((long)i0 * w), w, rows, lanes);
            }
        }
    }

    /// <summary>Row sums of window k along a zero-padded tile (lanes = rows), scaled: <c>tout[j] = scale · Σ tin[j … j+k−1]</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void HorizontalSums(double* tin, double* tout, int w, int k, double scale)
    {
        int lanes = Vector<double>.Count;
        var s = Vector<double>.Zero;
        for (int t = 0; t < k; t++)
        {
            s += Load(tin + ((long)t * lanes));
        }

        var vs = new Vector<double>(scale);
        for (int j = 0; j < w - 1; j++)
        {
            Store(tout + ((long)j * lanes), s * vs);
            s += Load(tin + ((long)(j + k) * lanes)) - Load(tin + ((long)j * lanes));
        }

        Store(tout + ((long)(w - 1) * lanes), s * vs);
    }

    /// <summary><c>acc[j] ± row[j]</c> in double, vectorised.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Accumulate<T>(double* acc, T* row, int w, bool subtract)
        where T : unmanaged, INumberBase<T>
    {
        int j = 0;
        int n = Vector<double>.Count;
        if (typeof(T) == typeof(float))
        {
            float* f = (float*)row;
            for (; j <= w - (2 * n); j += 2 * n)
            {
                Vector.Widen(Load(f + j), out Vector<double> lo, out Vector<double> hi);
                Vector<double> a0 = Load(acc + j), a1 = Load(acc + j + n);
                Store(acc + j, subtract ? a0 - lo : a0 + lo);
                Store(acc + j + n, subtract ? a1 - hi : a1 + hi);
            }
        }
        else if (typeof(T) == typeof(double))
        {
            double* d = (double*)row;
            for (; j <= w - n; j += n)
            {
                Vector<double> a = Load(acc + j), b = Load(d + j);
                Store(acc + j, subtract ? a - b : a + b);
            }
        }

        for (; j < w; j++)
        {
            double v = ToDouble(row[j]);
            acc[j] = subtract ? acc[j] - v : acc[j] + v;
        }
    }

    // ------------------------------------------------------------------ extrema

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Extremum<T>(T* src, T* dst, int h, int w, int k, bool min)
        where T : unmanaged, INumber<T>
    {
        CheckArguments(h, w, k);
        int lanes = Vector<double>.Count;
        int pad = k / 2;
        bool wide = pad >= w;
        int pw = wide ? 0 : w + (2 * pad);
        T padding = T.CreateTruncating(min ? double.PositiveInfinity : double.NegativeInfinity);

        // Input-typed rows: the padding row, the running block prefix, the vertical result, then k rows of block suffixes;
        // double tiles: the input, its block suffixes, the output.
        long typed = ((3L + k) * w) + Vector<T>.Count, tiles = (2L * pw * lanes) + (2L * w * lanes);
        byte* scratch = Scratch((typed * sizeof(T)) + (tiles * sizeof(double)) + 64);
        double* tin = (double*)scratch;
        double* tsuf = tin + ((long)pw * lanes);
        double* tout = tsuf + ((long)pw * lanes);
        double* rowsBuf = tout + ((long)w * lanes);
        T* padRow = (T*)Align((byte*)(rowsBuf + ((long)w * lanes)));
        T* prefix = padRow + w;
        T* vrow = prefix + w;
        T* suffix = vrow + w;
        new Span<T>(padRow, w).Fill(padding);
        new Span<double>(tin, pw * lanes).Fill(min ? double.PositiveInfinity : double.NegativeInfinity);

        // Vertical pass over the padded rows v = 0 … h+2·pad−1 (image row v − pad), in blocks of k. Output row i covers
        // padded rows [i, i+k−1]: the suffix of i's block from i, and the prefix of the next block up to i+k−1.
        int i0 = 0;
        for (int v = 0; v < h + k - 1; v++)
        {
            T* x = PaddedRow(src, padRow, v - pad, h, w);
            if (v % k == 0)
            {
                new Span<T>(x, w).CopyTo(new Span<T>(prefix, w));
            }
            else
            {
                Extreme(prefix, x, prefix, w, min);
            }

            if (v % k == k - 1)
            {
                int b = v - k + 1;
                T* last = suffix + ((long)(k - 1) * w);
                new Span<T>(x, w).CopyTo(new Span<T>(last, w));
                for (int t = k - 2; t >= 0; t--)
                {
                    Extreme(PaddedRow(src, padRow, b + t - pad, h, w), suffix + ((long)(t + 1) * w), suffix + ((long)t * w), w, min);
                }
            }

            if (v < k - 1)
            {
                continue;
            }

            int i = v - k + 1;
            Extreme(suffix + ((long)(i % k) * w), prefix, vrow, w, min);
            int r = i - i0;
            if (wide)
            {
                T e = vrow[0];
                for (int j = 1; j < w; j++)
                {
                    e = Pick(e, vrow[j], min);
                }

                new Span<T>(dst + ((long)i * w), w).Fill(e);
            }
            else
            {
                Scatter(vrow, rowsBuf + ((long)r * w), w, 1);
                if (r == lanes - 1 || i == h - 1)
                {
                    TransposeIn(rowsBuf, tin + ((long)pad * lanes), w, r + 1);
                    HorizontalExtrema(tin, tsuf, tout, pw, k, min);
                    Gather(tout, dst + ((long)i0 * w), w, r + 1, lanes);
                    i0 = i + 1;
                }
            }
        }
    }

    /// <summary>Van Herk along a padded tile (lanes = rows): <c>tout[j] = ext(tin[j … j+k−1])</c> for j in [0, pw−k].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void HorizontalExtrema(double* tin, double* tsuf, double* tout, int pw, int k, bool min)
    {
        int lanes = Vector<double>.Count;
        for (int b = 0; b < pw; b += k)
        {
            int e = Math.Min(b + k, pw) - 1;
            var s = Load(tin + ((long)e * lanes));
            Store(tsuf + ((long)e * lanes), s);
            for (int t = e - 1; t >= b; t--)
            {
                s = Pick(Load(tin + ((long)t * lanes)), s, min);
                Store(tsuf + ((long)t * lanes), s);
            }
        }

        var p = Vector<double>.Zero;
        for (int b = 0; b < pw; b += k)
        {
            int e = Math.Min(b + k, pw);
            for (int t = b; t < e; t++)
            {
                var x = Load(tin + ((long)t * lanes));
                p = t == b ? x : Pick(p, x, min);
                if (t >= k - 1)
                {
                    long j = t - k + 1;
                    Store(tout + (j * lanes), Pick(Load(tsuf + (j * lanes)), p, min));
                }
            }
        }
    }

    /// <summary><c>o[j] = ext(a[j], b[j])</c> in the input type, vectorised; <paramref name="o"/> may be <paramref name="a"/> or <paramref name="b"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Extreme<T>(T* a, T* b, T* o, int w, bool min)
        where T : unmanaged, INumber<T>
    {
        int j = 0;
        int n = Vector<T>.Count;
        for (; j <= w - n; j += n)
        {
            Store(o + j, Pick(Load(a + j), Load(b + j), min));
        }

        for (; j < w; j++)
        {
            o[j] = Pick(a[j], b[j], min);
        }
    }

    private static T* PaddedRow<T>(T* src, T* padRow, int r, int h, int w)
        where T : unmanaged => r >= 0 && r < h ? src + ((long)r * w) : padRow;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<T> Pick<T>(Vector<T> a, Vector<T> b, bool min) => min ? Vector.Min(a, b) : Vector.Max(a, b);

    /// <summary>The scalar extremum as <see cref="Vector.Max{T}(Vector{T}, Vector{T})"/>: NaN propagates, −0 &lt; +0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static T Pick<T>(T a, T b, bool min)
        where T : INumber<T> => min ? T.Min(a, b) : T.Max(a, b);

    // ------------------------------------------------------------------ tiles and scratch

    /// <summary>Stores row <paramref name="row"/> into one lane of a column-major tile: <c>tile[j · lanes] = row[j]</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Scatter<T>(T* row, double* tile, int w, int lanes)
        where T : unmanaged, INumberBase<T>
    {
        for (int j = 0; j < w; j++)
        {
            tile[(long)j * lanes] = ToDouble(row[j]);
        }
    }

    /// <summary>
    /// Moves <paramref name="rows"/> consecutive rows of <paramref name="w"/> doubles into the lanes of a column-major tile:
    /// <c>tile[j · lanes + r] = rowsBuf[r · w + j]</c> (4×4 AVX transposes where the lanes are four).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TransposeIn(double* rowsBuf, double* tile, int w, int rows)
    {
        int lanes = Vector<double>.Count;
        int j = 0;
        if (Avx.IsSupported && lanes == 4 && rows == 4)
        {
            for (; j <= w - 4; j += 4)
            {
                Transpose4(
                    Avx.LoadVector256(rowsBuf + j), Avx.LoadVector256(rowsBuf + w + j), Avx.LoadVector256(rowsBuf + (2L * w) + j), Avx.LoadVector256(rowsBuf + (3L * w) + j),
                    out var c0, out var c1, out var c2, out var c3);
                double* t = tile + ((long)j * 4);
                Avx.Store(t, c0);
                Avx.Store(t + 4, c1);
                Avx.Store(t + 8, c2);
                Avx.Store(t + 12, c3);
            }
        }

        for (int r = 0; r < rows; r++)
        {
            for (int jj = j; jj < w; jj++)
            {
                tile[((long)jj * lanes) + r] = rowsBuf[((long)r * w) + jj];
            }
        }
    }

    /// <summary>4×4 transpose of doubles: row r of the input becomes lane r of each output.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose4(
        Vector256<double> r0, Vector256<double> r1, Vector256<double> r2, Vector256<double> r3,
        out Vector256<double> c0, out Vector256<double> c1, out Vector256<double> c2, out Vector256<double> c3)
    {
        var t0 = Avx.UnpackLow(r0, r1);
        var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3);
        var t3 = Avx.UnpackHigh(r2, r3);
        c0 = Avx.Permute2x128(t0, t2, 0x20);
        c1 = Avx.Permute2x128(t1, t3, 0x20);
        c2 = Avx.Permute2x128(t0, t2, 0x31);
        c3 = Avx.Permute2x128(t1, t3, 0x31);
    }

    /// <summary>Writes the first <paramref name="rows"/> lanes of a column-major tile to consecutive rows of <paramref name="dst"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Gather<T>(double* tile, T* dst, int w, int rows, int lanes)
        where T : unmanaged, INumberBase<T>
    {
        int j0 = 0;
        if (Avx.IsSupported && lanes == 4 && (typeof(T) == typeof(float) || typeof(T) == typeof(double)))
        {
            for (; j0 <= w - 4; j0 += 4)
            {
                double* t = tile + ((long)j0 * 4);
                Transpose4(Avx.LoadVector256(t), Avx.LoadVector256(t + 4), Avx.LoadVector256(t + 8), Avx.LoadVector256(t + 12), out var o0, out var o1, out var o2, out var o3);
                Span<Vector256<double>> o = [o0, o1, o2, o3];
                for (int r = 0; r < rows; r++)
                {
                    T* d = dst + ((long)r * w) + j0;
                    if (typeof(T) == typeof(float))
                    {
                        Sse.Store((float*)d, Avx.ConvertToVector128Single(o[r]));
                    }
                    else
                    {
                        Avx.Store((double*)d, o[r]);
                    }
                }
            }
        }

        for (int r = 0; r < rows; r++)
        {
            T* o = dst + ((long)r * w);
            double* t = tile + r;
            for (int j = j0; j < w; j++)
            {
                o[j] = FromDouble<T>(t[(long)j * lanes]);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static double ToDouble<T>(T v)
        where T : unmanaged, INumberBase<T> =>
        typeof(T) == typeof(float) ? Unsafe.As<T, float>(ref v) : typeof(T) == typeof(double) ? Unsafe.As<T, double>(ref v) : double.CreateTruncating(v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static T FromDouble<T>(double v)
        where T : unmanaged, INumberBase<T>
    {
        if (typeof(T) == typeof(float))
        {
            float f = (float)v;
            return Unsafe.As<float, T>(ref f);
        }

        return typeof(T) == typeof(double) ? Unsafe.As<double, T>(ref v) : T.CreateTruncating(v);
    }

    private static void CheckArguments(int h, int w, int k)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(h);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(w);
        if (k <= 0 || k % 2 == 0)
        {
            throw new ArgumentOutOfRangeException(nameof(k), k, "The window size must be odd and positive.");
        }
    }

    /// <summary>This thread's scratch, at least <paramref name="bytes"/> long, 64-byte aligned (pinned, reused across calls).</summary>
    private static byte* Scratch(long bytes)
    {
        long need = bytes + 64;
        if (need > Array.MaxLength)
        {
            throw new ArgumentOutOfRangeException(nameof(bytes), bytes, "The stencil's scratch exceeds the largest array.");
        }

        var a = t_scratch;
        if (a is null || a.Length < need)
        {
            long grown = Math.Min(Math.Max(need, (a?.Length ?? 0) * 2L), Array.MaxLength);
            a = GC.AllocateUninitializedArray<byte>((int)grown, pinned: true);
            t_scratch = a;
        }

        return Align((byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(a)));
    }

    private static byte* Align(byte* p) => (byte*)(((nuint)p + 63) & ~(nuint)63);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<T> Load<T>(T* p)
        where T : unmanaged => Unsafe.ReadUnaligned<Vector<T>>(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store<T>(T* p, Vector<T> v)
        where T : unmanaged => Unsafe.WriteUnaligned(p, v);
}
