using System;

namespace LossDsl;

/// <summary>
/// The vocabulary of a loss declaration (<c>using static LossDsl.Dsl;</c>). The generator reads calls to these functions;
/// called with data they compute in double precision with straightforward loops (the reference interpreter).
/// </summary>
public static class Dsl
{
    // ----- pointwise on fields -----

    /// <summary><c>torch.abs</c>.</summary>
    /// <param name="x">The field.</param>
    /// <returns>|x| per pixel.</returns>
    public static Field Abs(Field x) => Field.Map(x, Math.Abs);

    /// <summary><c>torch.sigmoid</c>.</summary>
    /// <param name="x">The field.</param>
    /// <returns>σ(x) per pixel.</returns>
    public static Field Sigmoid(Field x) => Field.Map(x, Scalar.Sigmoid);

    /// <summary><c>F.logsigmoid</c>.</summary>
    /// <param name="x">The field.</param>
    /// <returns>log σ(x) per pixel.</returns>
    public static Field LogSigmoid(Field x) => Field.Map(x, Scalar.LogSigmoid);

    /// <summary><c>F.softplus</c> (β = 1).</summary>
    /// <param name="x">The field.</param>
    /// <returns>log(1 + eˣ) per pixel.</returns>
    public static Field Softplus(Field x) => Field.Map(x, Scalar.Softplus);

    /// <summary><c>torch.exp</c>.</summary>
    /// <param name="x">The field.</param>
    /// <returns>eˣ per pixel.</returns>
    public static Field Exp(Field x) => Field.Map(x, Math.Exp);

    /// <summary><c>torch.log</c>.</summary>
    /// <param name="x">The field.</param>
    /// <returns>ln x per pixel.</returns>
    public static Field Log(Field x) => Field.Map(x, Math.Log);

    /// <summary><c>torch.log1p</c>: <c>log(1 + x)</c>, accurate for small x.</summary>
    /// <param name="x">The field.</param>
    /// <returns>ln(1 + x) per pixel.</returns>
    public static Field Log1p(Field x) => Field.Map(x, Scalar.Log1p);

    /// <summary><c>torch.tanh</c>.</summary>
    /// <param name="x">The field.</param>
    /// <returns>tanh x per pixel.</returns>
    public static Field Tanh(Field x) => Field.Map(x, Math.Tanh);

    /// <summary><c>torch.relu</c>: <c>max(x, 0)</c>; its gradient is 0 at 0, as PyTorch's.</summary>
    /// <param name="x">The field.</param>
    /// <returns>relu(x).</returns>
    public static Field Relu(Field x) => Field.Map(x, Scalar.Relu);

    /// <inheritdoc cref="Relu(Field)"/>
    public static Plane Relu(Plane x) => Plane.Map(x, Scalar.Relu);

    /// <inheritdoc cref="Relu(Field)"/>
    public static Batch Relu(Batch x) => new(Scalar.Relu(x.Value));

    /// <summary><c>torch.sqrt</c>.</summary>
    /// <param name="x">The field.</param>
    /// <returns>√x per pixel.</returns>
    public static Field Sqrt(Field x) => Field.Map(x, Math.Sqrt);

    /// <summary><c>torch.square</c>.</summary>
    /// <param name="x">The field.</param>
    /// <returns>x² per pixel.</returns>
    public static Field Square(Field x) => Field.Map(x, static v => v * v);

    /// <summary><c>torch.pow(x, c)</c> with a constant exponent.</summary>
    /// <param name="x">The field.</param>
    /// <param name="c">The exponent (a compile-time constant in a declaration).</param>
    /// <returns>xᶜ per pixel.</returns>
    public static Field Pow(Field x, double c) => Field.Map(x, v => Math.Pow(v, c));

    /// <summary><c>torch.minimum</c>.</summary>
    /// <param name="a">The first field.</param>
    /// <param name="b">The second field.</param>
    /// <returns>min(a, b) per pixel.</returns>
    public static Field Min(Field a, Field b) => Field.Zip(a, b, static (x, y) => double.IsNaN(x) || double.IsNaN(y) ? double.NaN : Math.Min(x, y));

    /// <summary><c>torch.clamp(x, max=c)</c>.</summary>
    /// <param name="a">The field.</param>
    /// <param name="c">The constant.</param>
    /// <returns>min(a, c) per pixel.</returns>
    public static Field Min(Field a, double c) => Field.Map(a, x => double.IsNaN(x) ? x : Math.Min(x, c));

    /// <summary><c>torch.maximum</c>.</summary>
    /// <param name="a">The first field.</param>
    /// <param name="b">The second field.</param>
    /// <returns>max(a, b) per pixel.</returns>
    public static Field Max(Field a, Field b) => Field.Zip(a, b, static (x, y) => double.IsNaN(x) || double.IsNaN(y) ? double.NaN : Math.Max(x, y));

    /// <summary><c>torch.clamp(x, min=c)</c>.</summary>
    /// <param name="a">The field.</param>
    /// <param name="c">The constant.</param>
    /// <returns>max(a, c) per pixel.</returns>
    public static Field Max(Field a, double c) => Field.Map(a, x => double.IsNaN(x) ? x : Math.Max(x, c));

    /// <summary><c>torch.clamp(x, lo, hi)</c>.</summary>
    /// <param name="x">The field.</param>
    /// <param name="lo">The lower bound (constant).</param>
    /// <param name="hi">The upper bound (constant).</param>
    /// <returns>x clamped per pixel.</returns>
    public static Field Clamp(Field x, double lo, double hi) => Field.Map(x, v => Scalar.Clamp(v, lo, hi));

    /// <summary><c>F.binary_cross_entropy_with_logits(x, t, reduction='none')</c>, stable form <c>max(x,0) − x·t + log(1 + e^−|x|)</c>.</summary>
    /// <param name="x">The logits.</param>
    /// <param name="t">The targets in [0, 1].</param>
    /// <returns>The per-pixel loss.</returns>
    public static Field BceWithLogits(Field x, Field t) => Field.Zip(x, t, Scalar.BceWithLogits);

    // ----- stencils -----

    /// <summary>
    /// <c>F.avg_pool2d(x, k, stride=1, padding=k//2)</c> with <c>count_include_pad=True</c>: the mean of the k×k window,
    /// zero outside the image, divided by k² everywhere.
    /// </summary>
    /// <param name="x">The field.</param>
    /// <param name="k">Odd window size (a compile-time constant in a declaration).</param>
    /// <returns>The pooled field, same shape.</returns>
    public static Field AvgPool(Field x, int k) => Pool(x, k, 0.0, static (acc, v) => acc + v, static (acc, k2) => acc / k2);

    /// <summary><c>F.max_pool2d(x, k, stride=1, padding=k//2)</c>: the window maximum (padding never wins).</summary>
    /// <param name="x">The field.</param>
    /// <param name="k">Odd window size (a compile-time constant in a declaration).</param>
    /// <returns>The pooled field, same shape.</returns>
    public static Field MaxPool(Field x, int k) => Pool(x, k, double.NegativeInfinity, static (acc, v) => double.IsNaN(acc) || v > acc || double.IsNaN(v) ? v : acc, static (acc, _) => acc);

    /// <summary><c>-F.max_pool2d(-x, k, stride=1, padding=k//2)</c>: the window minimum (morphological erosion).</summary>
    /// <param name="x">The field.</param>
    /// <param name="k">Odd window size (a compile-time constant in a declaration).</param>
    /// <returns>The pooled field, same shape.</returns>
    public static Field MinPool(Field x, int k) => -MaxPool(-x, k);

    private static Field Pool(Field x, int k, double seed, Func<double, double, double> add, Func<double, double, double> finish)
    {
        if (k <= 0 || k % 2 == 0)
        {
            throw new ArgumentOutOfRangeException(nameof(k), k, "The pooling window must be a positive odd size.");
        }

        var s = x.Shape;
        var r = new double[s.Length];
        int pad = k / 2;

        // A k×k window per slice of an image, k×k×k across the slices of a volume (the window's depth is 1 when D = 1).
        int padD = s.D == 1 ? 0 : pad;
        double count = s.D == 1 ? (double)k * k : (double)k * k * k;
        int slice = s.H * s.W;
        for (int p = 0; p < s.Planes; p++)
        {
            int o = p * s.PlaneSize;
            for (int l = 0; l < s.D; l++)
            {
                for (int i = 0; i < s.H; i++)
                {
                    for (int j = 0; j < s.W; j++)
                    {
                        double acc = seed;
                        for (int dl = -padD; dl <= padD; dl++)
                        {
                            for (int di = -pad; di <= pad; di++)
                            {
                                for (int dj = -pad; dj <= pad; dj++)
                                {
                                    int q = l + dl, y = i + di, z = j + dj;
                                    if (q < 0 || q >= s.D || y < 0 || y >= s.H || z < 0 || z >= s.W)
                                    {
                                        continue;
                                    }

                                    acc = add(acc, x.Data[o + (q * slice) + (y * s.W) + z]);
                                }
                            }
                        }

                        r[o + (l * slice) + (i * s.W) + j] = finish(acc, count);
                    }
                }
            }
        }

        return new Field(s, r);
    }

    // ----- reductions -----

    /// <summary><c>x.sum(dim=(2, 3))</c>: the sum over each plane's pixels.</summary>
    /// <param name="x">The field.</param>
    /// <returns>One sum per plane.</returns>
    public static Plane Sum(Field x)
    {
        var s = x.Shape;
        var r = new double[s.Planes];
        for (int p = 0; p < r.Length; p++)
        {
            double acc = 0;
            for (int i = 0; i < s.PlaneSize; i++)
            {
                acc += x.Data[(p * s.PlaneSize) + i];
            }

            r[p] = acc;
        }

        return new Plane(s, r);
    }

    /// <summary><c>x.mean(dim=(2, 3))</c>: the mean over each plane's pixels.</summary>
    /// <param name="x">The field.</param>
    /// <returns>One mean per plane.</returns>
    public static Plane Mean(Field x) => Sum(x) / x.Shape.PlaneSize;

    /// <summary><c>(w * x).sum(dim=(2, 3)) / w.sum(dim=(2, 3))</c>: the w-weighted mean over each plane.</summary>
    /// <param name="x">The field.</param>
    /// <param name="w">The weights.</param>
    /// <returns>One weighted mean per plane.</returns>
    public static Plane WeightedMean(Field x, Field w) => Sum(w * x) / Sum(w);

    /// <summary><c>x.mean()</c>: the mean over every element of the batch.</summary>
    /// <param name="x">The field.</param>
    /// <returns>The whole-batch mean.</returns>
    public static Batch BatchMean(Field x)
    {
        double acc = 0;
        foreach (double v in x.Values)
        {
            acc += v;
        }

        return new Batch(acc / x.Shape.Length);
    }

    // ----- per channel (class), over the whole batch -----

    /// <summary>
    /// <c>x.sum(dim=(0, 2, 3))</c>: the sum over every image and pixel of each channel (smp's <c>dims=(0, 2)</c>, MONAI's
    /// <c>batch=True</c>, nnU-Net's <c>batch_dice</c>), as a per-plane value that is the same in every image.
    /// </summary>
    /// <param name="x">The field.</param>
    /// <returns>One sum per channel, repeated for every image.</returns>
    public static Plane ClassSum(Field x)
    {
        var s = x.Shape;
        var planes = Sum(x).Values;
        var r = new double[s.Planes];
        for (int c = 0; c < s.C; c++)
        {
            double acc = 0;
            for (int n = 0; n < s.N; n++)
            {
                acc += planes[(n * s.C) + c];
            }

            for (int n = 0; n < s.N; n++)
            {
                r[(n * s.C) + c] = acc;
            }
        }

        return new Plane(s, r);
    }

    /// <summary><c>x.mean(dim=(0, 2, 3))</c>: the mean over every image and pixel of each channel, repeated for every image.</summary>
    /// <param name="x">The field.</param>
    /// <returns>One mean per channel, repeated for every image.</returns>
    public static Plane ClassMean(Field x) => ClassSum(x) / ((double)x.Shape.Length / x.Shape.C);

    /// <summary>The number of elements of one channel of the batch, N·H·W (what <see cref="ClassMean(Field)"/> divides by).</summary>
    /// <param name="x">Any field of the loss's shape.</param>
    /// <returns>N·H·W for every plane.</returns>
    public static Plane ClassCount(Field x)
    {
        var counts = new double[x.Shape.Planes];
        Array.Fill(counts, (double)x.Shape.Length / x.Shape.C);
        return new Plane(x.Shape, counts);
    }

    // ----- over the channels of each pixel (dim=1, keepdim=True: broadcast back over the channels) -----

    /// <summary>
    /// <c>x.sum(dim=1, keepdim=True)</c>: the sum over the channels of each pixel, the same value in every channel.
    /// </summary>
    /// <param name="x">The field.</param>
    /// <returns>Σ_c x at every pixel, broadcast over the channels.</returns>
    public static Field SumOverChannels(Field x) => OverChannels(x, static (values, _) =>
    {
        double acc = 0;
        foreach (double v in values)
        {
            acc += v;
        }

        return acc;
    });

    /// <summary><c>x.mean(dim=1, keepdim=True)</c>: the mean over the channels of each pixel.</summary>
    /// <param name="x">The field.</param>
    /// <returns>Σ_c x / C at every pixel, broadcast over the channels.</returns>
    public static Field MeanOverChannels(Field x) => SumOverChannels(x) / x.Shape.C;

    /// <summary>
    /// <c>torch.logsumexp(x, dim=1, keepdim=True)</c>: log Σ_c e^x over the channels of each pixel, computed as
    /// m + log Σ_c e^(x − m) with m the channels' maximum (no overflow for large logits).
    /// </summary>
    /// <param name="x">The field.</param>
    /// <returns>The log-sum-exp at every pixel, broadcast over the channels.</returns>
    public static Field LogSumExp(Field x) => OverChannels(x, static (values, _) =>
    {
        double m = double.NegativeInfinity;
        foreach (double v in values)
        {
            m = double.IsNaN(v) || v > m ? v : m;
        }

        double acc = 0;
        foreach (double v in values)
        {
            acc += Math.Exp(v - m);
        }

        return m + Math.Log(acc);
    });

    /// <summary><c>torch.log_softmax(x, dim=1)</c>: <c>x − LogSumExp(x)</c>.</summary>
    /// <param name="x">The logits.</param>
    /// <returns>The log-probabilities over the channels.</returns>
    public static Field LogSoftmax(Field x) => x - LogSumExp(x);

    /// <summary><c>torch.softmax(x, dim=1)</c>: <c>e^(x − LogSumExp(x))</c>, the probabilities over the channels.</summary>
    /// <param name="x">The logits.</param>
    /// <returns>The probabilities over the channels.</returns>
    public static Field Softmax(Field x) => Exp(LogSoftmax(x));

    private static Field OverChannels(Field x, Func<double[], int, double> reduce)
    {
        var s = x.Shape;
        var r = new double[s.Length];
        var values = new double[s.C];
        int hw = s.PlaneSize;
        for (int n = 0; n < s.N; n++)
        {
            for (int i = 0; i < hw; i++)
            {
                for (int c = 0; c < s.C; c++)
                {
                    values[c] = x.Data[(((n * s.C) + c) * hw) + i];
                }

                double v = reduce(values, n);
                for (int c = 0; c < s.C; c++)
                {
                    r[(((n * s.C) + c) * hw) + i] = v;
                }
            }
        }

        return new Field(s, r);
    }

    // ----- pointwise on planes -----

    /// <summary><c>torch.abs</c> per plane.</summary>
    /// <param name="x">The plane values.</param>
    /// <returns>|x|.</returns>
    public static Plane Abs(Plane x) => Plane.Map(x, Math.Abs);

    /// <summary><c>torch.exp</c> per plane.</summary>
    /// <param name="x">The plane values.</param>
    /// <returns>eˣ.</returns>
    public static Plane Exp(Plane x) => Plane.Map(x, Math.Exp);

    /// <summary><c>torch.log</c> per plane.</summary>
    /// <param name="x">The plane values.</param>
    /// <returns>ln x.</returns>
    public static Plane Log(Plane x) => Plane.Map(x, Math.Log);

    /// <summary><c>torch.sqrt</c> per plane.</summary>
    /// <param name="x">The plane values.</param>
    /// <returns>√x.</returns>
    public static Plane Sqrt(Plane x) => Plane.Map(x, Math.Sqrt);

    /// <summary><c>torch.square</c> per plane.</summary>
    /// <param name="x">The plane values.</param>
    /// <returns>x².</returns>
    public static Plane Square(Plane x) => Plane.Map(x, static v => v * v);

    /// <summary><c>torch.pow(x, c)</c> per plane.</summary>
    /// <param name="x">The plane values.</param>
    /// <param name="c">The constant exponent.</param>
    /// <returns>xᶜ.</returns>
    public static Plane Pow(Plane x, double c) => Plane.Map(x, v => Math.Pow(v, c));

    /// <summary><c>torch.sigmoid</c> per plane.</summary>
    /// <param name="x">The plane values.</param>
    /// <returns>σ(x).</returns>
    public static Plane Sigmoid(Plane x) => Plane.Map(x, Scalar.Sigmoid);

    /// <summary><c>torch.clamp(x, lo, hi)</c> per plane.</summary>
    /// <param name="x">The plane values.</param>
    /// <param name="lo">The lower bound.</param>
    /// <param name="hi">The upper bound.</param>
    /// <returns>x clamped.</returns>
    public static Plane Clamp(Plane x, double lo, double hi) => Plane.Map(x, v => Scalar.Clamp(v, lo, hi));

    // ----- whole-batch sums, counts and math on batch values -----

    /// <summary><c>x.sum()</c>: the sum over every element of the batch (MONAI's <c>batch=True</c> reductions for one channel).</summary>
    /// <param name="x">The field.</param>
    /// <returns>The whole-batch sum.</returns>
    public static Batch BatchSum(Field x)
    {
        double acc = 0;
        foreach (double v in x.Values)
        {
            acc += v;
        }

        return new Batch(acc);
    }

    /// <summary>The number of pixels of a plane, H·W, as a per-plane value (what <see cref="Mean(Field)"/> divides by).</summary>
    /// <param name="x">Any field of the loss's shape.</param>
    /// <returns>H·W for every plane.</returns>
    public static Plane PixelCount(Field x)
    {
        var counts = new double[x.Shape.Planes];
        Array.Fill(counts, x.Shape.PlaneSize);
        return new Plane(x.Shape, counts);
    }

    /// <summary>The number of elements of the batch, N·C·H·W (what <see cref="BatchMean(Field)"/> divides by).</summary>
    /// <param name="x">Any field of the loss's shape.</param>
    /// <returns>N·C·H·W.</returns>
    public static Batch BatchCount(Field x) => new(x.Shape.Length);

    /// <summary><c>torch.abs</c> of a batch value.</summary>
    /// <param name="x">The batch value.</param>
    /// <returns>|x|.</returns>
    public static Batch Abs(Batch x) => new(Math.Abs(x.Value));

    /// <summary><c>torch.exp</c> of a batch value.</summary>
    /// <param name="x">The batch value.</param>
    /// <returns>eˣ.</returns>
    public static Batch Exp(Batch x) => new(Math.Exp(x.Value));

    /// <summary><c>torch.log</c> of a batch value.</summary>
    /// <param name="x">The batch value.</param>
    /// <returns>ln x.</returns>
    public static Batch Log(Batch x) => new(Math.Log(x.Value));

    /// <summary><c>torch.sqrt</c> of a batch value.</summary>
    /// <param name="x">The batch value.</param>
    /// <returns>√x.</returns>
    public static Batch Sqrt(Batch x) => new(Math.Sqrt(x.Value));

    /// <summary><c>torch.square</c> of a batch value.</summary>
    /// <param name="x">The batch value.</param>
    /// <returns>x².</returns>
    public static Batch Square(Batch x) => new(x.Value * x.Value);

    /// <summary><c>torch.pow(x, c)</c> of a batch value (smp's focal Tversky: <c>(1 − tversky)^γ</c>).</summary>
    /// <param name="x">The batch value.</param>
    /// <param name="c">The constant exponent.</param>
    /// <returns>xᶜ.</returns>
    public static Batch Pow(Batch x, double c) => new(Math.Pow(x.Value, c));

    /// <summary><c>torch.clamp(x, lo, hi)</c> of a batch value.</summary>
    /// <param name="x">The batch value.</param>
    /// <param name="lo">The lower bound.</param>
    /// <param name="hi">The upper bound.</param>
    /// <returns>x clamped.</returns>
    public static Batch Clamp(Batch x, double lo, double hi) => new(Scalar.Clamp(x.Value, lo, hi));

    // ----- comparisons and selection (torch.where), at every rank -----

    /// <summary><c>(a &gt; b).float()</c>: 1 where a &gt; b, else 0. Its derivative is 0.</summary>
    /// <param name="a">The first operand.</param>
    /// <param name="b">The second operand.</param>
    /// <returns>The 0/1 mask.</returns>
    public static Field Greater(Field a, Field b) => Field.Zip(a, b, Scalar.Greater);

    /// <inheritdoc cref="Greater(Field, Field)"/>
    public static Field Greater(Field a, double b) => Field.Map(a, x => Scalar.Greater(x, b));

    /// <inheritdoc cref="Greater(Field, Field)"/>
    public static Plane Greater(Plane a, Plane b) => Plane.Zip(a, b, Scalar.Greater);

    /// <inheritdoc cref="Greater(Field, Field)"/>
    public static Plane Greater(Plane a, double b) => Plane.Map(a, x => Scalar.Greater(x, b));

    /// <inheritdoc cref="Greater(Field, Field)"/>
    public static Batch Greater(Batch a, Batch b) => new(Scalar.Greater(a.Value, b.Value));

    /// <inheritdoc cref="Greater(Field, Field)"/>
    public static Batch Greater(Batch a, double b) => new(Scalar.Greater(a.Value, b));

    /// <summary><c>(a &lt; b).float()</c>: 1 where a &lt; b, else 0. Its derivative is 0.</summary>
    /// <param name="a">The first operand.</param>
    /// <param name="b">The second operand.</param>
    /// <returns>The 0/1 mask.</returns>
    public static Field Less(Field a, Field b) => Field.Zip(a, b, Scalar.Less);

    /// <inheritdoc cref="Less(Field, Field)"/>
    public static Field Less(Field a, double b) => Field.Map(a, x => Scalar.Less(x, b));

    /// <inheritdoc cref="Less(Field, Field)"/>
    public static Plane Less(Plane a, Plane b) => Plane.Zip(a, b, Scalar.Less);

    /// <inheritdoc cref="Less(Field, Field)"/>
    public static Plane Less(Plane a, double b) => Plane.Map(a, x => Scalar.Less(x, b));

    /// <inheritdoc cref="Less(Field, Field)"/>
    public static Batch Less(Batch a, Batch b) => new(Scalar.Less(a.Value, b.Value));

    /// <inheritdoc cref="Less(Field, Field)"/>
    public static Batch Less(Batch a, double b) => new(Scalar.Less(a.Value, b));

    /// <summary>
    /// <c>torch.where(cond != 0, a, b)</c> per element: the gradient flows to <paramref name="a"/> where the condition
    /// holds and to <paramref name="b"/> elsewhere, and the unchosen value never reaches the result (NaN or ∞ included).
    /// </summary>
    /// <param name="cond">The condition, a 0/1 mask (from <see cref="Greater(Field, Field)"/> or <see cref="Less(Field, Field)"/>).</param>
    /// <param name="a">The value where it holds.</param>
    /// <param name="b">The value elsewhere.</param>
    /// <returns>The chosen values.</returns>
    public static Field Where(Field cond, Field a, Field b)
    {
        var r = new double[cond.Shape.Length];
        for (int i = 0; i < r.Length; i++)
        {
            r[i] = Scalar.Select(cond.Values[i], a.Values[i], b.Values[i]);
        }

        return new Field(cond.Shape, r);
    }

    /// <inheritdoc cref="Where(Field, Field, Field)"/>
    public static Field Where(Field cond, Field a, double b) => Where(cond, a, Field.Map(cond, _ => b));

    /// <inheritdoc cref="Where(Field, Field, Field)"/>
    public static Field Where(Field cond, double a, Field b) => Where(cond, Field.Map(cond, _ => a), b);

    /// <inheritdoc cref="Where(Field, Field, Field)"/>
    public static Plane Where(Plane cond, Plane a, Plane b)
    {
        var r = new double[cond.Shape.Planes];
        for (int i = 0; i < r.Length; i++)
        {
            r[i] = Scalar.Select(cond.Values[i], a.Values[i], b.Values[i]);
        }

        return new Plane(cond.Shape, r);
    }

    /// <inheritdoc cref="Where(Field, Field, Field)"/>
    public static Plane Where(Plane cond, Plane a, double b) => Where(cond, a, Plane.Map(cond, _ => b));

    /// <inheritdoc cref="Where(Field, Field, Field)"/>
    public static Plane Where(Plane cond, double a, Plane b) => Where(cond, Plane.Map(cond, _ => a), b);

    /// <inheritdoc cref="Where(Field, Field, Field)"/>
    public static Batch Where(Batch cond, Batch a, Batch b) => new(Scalar.Select(cond.Value, a.Value, b.Value));

    /// <inheritdoc cref="Where(Field, Field, Field)"/>
    public static Batch Where(Batch cond, Batch a, double b) => new(Scalar.Select(cond.Value, a.Value, b));

    /// <inheritdoc cref="Where(Field, Field, Field)"/>
    public static Batch Where(Batch cond, double a, Batch b) => new(Scalar.Select(cond.Value, a, b.Value));
}
