using System;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace LossDsl.TorchSharp;

/// <summary>
/// The tensor operations that code generated for the TorchSharp backend prints when it runs a loss as TorchSharp ops
/// (any device): stencils, the derivative helpers of the loss IR, reductions in float64 and broadcasting between
/// the pixel (N×C×H×W), plane (N×C) and batch (0-dim) ranks.
/// </summary>
/// <remarks>
/// Every method returns a new tensor (never one of its arguments) registered on the current dispose scope, and
/// disposes the intermediates it creates. Plane and batch values are float64 tensors; pixel values keep the input dtype.
/// </remarks>
public static class TensorMath
{
    private static readonly long[] PlaneDims = { 2, 3 };
    private static readonly long[] VolumeDims = { 2, 3, 4 };

    /// <summary>
    /// <c>avg_pool2d(x, k, stride 1, padding k/2)</c> with PyTorch's default <c>count_include_pad = true</c> (divisor k² at
    /// the borders too), computed separably: a (1, k) pool then a (k, 1) pool, each dividing by k.
    /// </summary>
    /// <param name="x">An N×C×H×W tensor.</param>
    /// <param name="kernel">The odd kernel size.</param>
    /// <returns>The pooled tensor, same shape.</returns>
    public static Tensor AvgPool(Tensor x, int kernel)
    {
        CheckKernel(kernel);
        if (x.Dimensions == 5)
        {
            // avg_pool3d(x, k, 1, k/2) with count_include_pad (divisor k³), separably and with 2-D pools (PyTorch's 3-D pools
            // refuse a volume smaller than the window, whatever the padding): each slice's k×k box, then the mean over k
            // slices as a (k, 1) pool of the N×C×D×(H·W) view.
            long[] s5 = x.shape;
            using var slices = x.view(s5[0], s5[1] * s5[2], s5[3], s5[4]);
            using var boxed = AvgPool(slices, kernel);
            using var depth = boxed.view(s5[0], s5[1], s5[2], s5[3] * s5[4]);
            using var pooled = F.avg_pool2d(depth, new long[] { kernel, 1 }, new long[] { 1, 1 }, new long[] { kernel / 2, 0 });
            return pooled.view(s5);
        }

        using var rows = F.avg_pool2d(x, new long[] { 1, kernel }, new long[] { 1, 1 }, new long[] { 0, kernel / 2 });
        return F.avg_pool2d(rows, new long[] { kernel, 1 }, new long[] { 1, 1 }, new long[] { kernel / 2, 0 });
    }

    /// <summary><c>max_pool2d(x, k, stride 1, padding k/2)</c> (padding never wins), separably: (1, k) then (k, 1).</summary>
    /// <param name="x">An N×C×H×W tensor.</param>
    /// <param name="kernel">The odd kernel size.</param>
    /// <returns>The pooled tensor, same shape.</returns>
    public static Tensor MaxPool(Tensor x, int kernel)
    {
        CheckKernel(kernel);
        if (x.Dimensions == 5)
        {
            // max_pool3d(x, k, 1, k/2) with 2-D pools (as AvgPool): each slice's k×k maximum, then over k slices.
            long[] s5 = x.shape;
            using var slices = x.view(s5[0], s5[1] * s5[2], s5[3], s5[4]);
            using var boxed = MaxPool(slices, kernel);
            using var depth = boxed.view(s5[0], s5[1], s5[2], s5[3] * s5[4]);
            using var pooled = F.max_pool2d(depth, new long[] { kernel, 1 }, new long[] { 1, 1 }, new long[] { kernel / 2, 0 });
            return pooled.view(s5);
        }

        using var rows = F.max_pool2d(x, new long[] { 1, kernel }, new long[] { 1, 1 }, new long[] { 0, kernel / 2 });
        return F.max_pool2d(rows, new long[] { kernel, 1 }, new long[] { 1, 1 }, new long[] { kernel / 2, 0 });
    }

    /// <summary>The minimum over the k×k window (borders excluded): <c>−max_pool(−x)</c>.</summary>
    /// <param name="x">An N×C×H×W tensor.</param>
    /// <param name="kernel">The odd kernel size.</param>
    /// <returns>The pooled tensor, same shape.</returns>
    public static Tensor MinPool(Tensor x, int kernel)
    {
        using var negated = x.neg();
        using var pooled = MaxPool(negated, kernel);
        return pooled.neg();
    }

    /// <summary><c>max(x, 0) − x·t + log(1 + exp(−|x|))</c> per element (<c>binary_cross_entropy_with_logits</c>, no reduction).</summary>
    /// <param name="x">Logits.</param>
    /// <param name="t">Targets, same shape.</param>
    /// <returns>The per-element loss.</returns>
    public static Tensor BceWithLogits(Tensor x, Tensor t) => F.binary_cross_entropy_with_logits(x, t, reduction: nn.Reduction.None);

    /// <summary>σ(x) from <paramref name="e"/> = <c>exp(−|x|)</c>: <c>1 / (1 + e)</c> where x ≥ 0, <c>e / (1 + e)</c> elsewhere.</summary>
    /// <param name="x">Logits.</param>
    /// <param name="e"><c>exp(−|x|)</c>, same shape.</param>
    /// <returns>σ(x).</returns>
    public static Tensor SigmoidFromExp(Tensor x, Tensor e)
    {
        using var r = (1 + e).reciprocal();
        using var below = e * r;
        using var nonNegative = x.ge(0);
        return torch.where(nonNegative, r, below);
    }

    /// <summary>1 where a &gt; b, ½ where a = b, 0 where a &lt; b (the derivative convention of <c>torch.maximum</c>).</summary>
    /// <param name="a">The first operand.</param>
    /// <param name="b">The second operand (broadcast).</param>
    /// <returns>The step, in <paramref name="a"/>'s dtype.</returns>
    public static Tensor Step(Tensor a, Tensor b) => Halves(a.gt(b), a.ge(b), a.dtype);

    /// <inheritdoc cref="Step(Tensor, Tensor)"/>
    public static Tensor Step(Tensor a, double b) => Halves(a.gt(b), a.ge(b), a.dtype);

    /// <inheritdoc cref="Step(Tensor, Tensor)"/>
    public static Tensor Step(double a, Tensor b) => Halves(b.lt(a), b.le(a), b.dtype);

    /// <summary>(strict + loose) / 2 as <paramref name="dtype"/>: 1 where both comparisons hold, ½ where only the loose one does.</summary>
    private static Tensor Halves(Tensor strict, Tensor loose, ScalarType dtype)
    {
        using (strict)
        using (loose)
        {
            using var s = strict.to(dtype);
            using var l = loose.to(dtype);
            using var sum = s + l;
            return sum * 0.5;
        }
    }

    /// <summary>1 where lo ≤ x ≤ hi, else 0 (the derivative convention of <c>torch.clamp</c>).</summary>
    /// <param name="x">The argument.</param>
    /// <param name="lo">The lower bound.</param>
    /// <param name="hi">The upper bound.</param>
    /// <returns>1 or 0 per element, in <paramref name="x"/>'s dtype.</returns>
    public static Tensor InRange(Tensor x, double lo, double hi)
    {
        using var ge = x.ge(lo);
        using var le = x.le(hi);
        using var both = ge.logical_and(le);
        return both.to(x.dtype);
    }

    /// <summary>Element-wise minimum (<c>torch.minimum</c>).</summary>
    /// <param name="a">The first operand.</param>
    /// <param name="b">The second operand.</param>
    /// <returns>min(a, b).</returns>
    public static Tensor Min(Tensor a, Tensor b) => torch.minimum(a, b);

    /// <inheritdoc cref="Min(Tensor, Tensor)"/>
    public static Tensor Min(Tensor a, double b) => a.clamp_max(b);

    /// <inheritdoc cref="Min(Tensor, Tensor)"/>
    public static Tensor Min(double a, Tensor b) => b.clamp_max(a);

    /// <summary>Element-wise maximum (<c>torch.maximum</c>).</summary>
    /// <param name="a">The first operand.</param>
    /// <param name="b">The second operand.</param>
    /// <returns>max(a, b).</returns>
    public static Tensor Max(Tensor a, Tensor b) => torch.maximum(a, b);

    /// <inheritdoc cref="Max(Tensor, Tensor)"/>
    public static Tensor Max(Tensor a, double b) => a.clamp_min(b);

    /// <inheritdoc cref="Max(Tensor, Tensor)"/>
    public static Tensor Max(double a, Tensor b) => b.clamp_min(a);

    /// <summary>Σ over H×W of an N×C×H×W tensor, accumulated and returned in float64: an N×C plane tensor.</summary>
    /// <param name="x">The pixel values.</param>
    /// <returns>The per-plane sums, float64, N×C.</returns>
    public static Tensor SumPlanes(Tensor x) => x.sum(x.Dimensions == 5 ? VolumeDims : PlaneDims, type: ScalarType.Float64);

    /// <summary>
    /// Σ over the images (dim 0) of an N×C plane tensor, the sum of each channel repeated for every image: a per-class
    /// batch sum (<c>x.sum(dim=(0, 2, 3))</c> of the pixels, from their per-plane sums).
    /// </summary>
    /// <param name="planes">The per-plane values, float64, N×C.</param>
    /// <returns>A new N×C float64 tensor.</returns>
    public static Tensor SumOverImages(Tensor planes)
    {
        using var sums = planes.sum(0, keepdim: true, type: ScalarType.Float64);
        using var expanded = sums.expand_as(planes);
        return expanded.contiguous();
    }

    /// <summary>Each plane's channel index, as an N×C float64 tensor (0, 1, …, C − 1 in every row).</summary>
    /// <param name="n">N.</param>
    /// <param name="c">C.</param>
    /// <param name="device">The device.</param>
    /// <returns>A new N×C float64 tensor.</returns>
    public static Tensor ChannelIndices(long n, long c, Device device)
    {
        using var row = torch.arange(c, ScalarType.Float64, device);
        using var expanded = row.expand(n, c);
        return expanded.contiguous();
    }

    /// <summary>Σ over every element, accumulated and returned in float64 (0-dim).</summary>
    /// <param name="x">The values.</param>
    /// <returns>The sum, float64, 0-dim.</returns>
    public static Tensor SumAll(Tensor x) => x.sum(type: ScalarType.Float64);

    /// <summary>
    /// A plane (N×C) or batch (0-dim) value as a tensor that broadcasts against pixels (N×C×1×1 or 0-dim), in the
    /// pixel dtype.
    /// </summary>
    /// <param name="value">A plane or batch value.</param>
    /// <param name="dtype">The pixel dtype.</param>
    /// <returns>The broadcastable value.</returns>
    public static Tensor ToPixels(Tensor value, ScalarType dtype)
    {
        if (value.Dimensions == 2)
        {
            using var view = value.view(value.shape[0], value.shape[1], 1, 1);
            return view.to(dtype);
        }

        return value.to(dtype);
    }

    /// <summary>
    /// A plane (N×C) or batch (0-dim) value as a tensor that broadcasts against <paramref name="like"/>'s pixels
    /// (N×C×1×1, or N×C×1×1×1 for a volume, or 0-dim), in <paramref name="like"/>'s dtype.
    /// </summary>
    /// <param name="value">A plane or batch value.</param>
    /// <param name="like">An N×C×H×W or N×C×D×H×W tensor of the loss's pixels.</param>
    /// <returns>The broadcastable value.</returns>
    public static Tensor ToPixels(Tensor value, Tensor like)
    {
        if (value.Dimensions == 2 && like.Dimensions == 5)
        {
            using var view = value.view(value.shape[0], value.shape[1], 1, 1, 1);
            return view.to(like.dtype);
        }

        return ToPixels(value, like.dtype);
    }

    /// <summary>A value of any rank as a dense tensor of <paramref name="like"/>'s shape and dtype (a new tensor).</summary>
    /// <param name="value">A pixel, plane (N×C) or batch (0-dim) value.</param>
    /// <param name="like">The N×C×H×W tensor whose shape, dtype and device the result takes.</param>
    /// <returns>A contiguous copy, broadcast to the pixels.</returns>
    public static Tensor ToField(Tensor value, Tensor like)
    {
        using var pixels = ToPixels(value, like);
        using var expanded = pixels.expand_as(like);
        return expanded.clone();
    }

    /// <summary>A constant as a tensor of <paramref name="like"/>'s shape, dtype and device.</summary>
    /// <param name="value">The constant.</param>
    /// <param name="like">The template tensor.</param>
    /// <returns>The filled tensor.</returns>
    public static Tensor ToField(double value, Tensor like) => torch.full_like(like, value);

    /// <summary>A plane or batch value as an N×C float64 tensor (a new tensor).</summary>
    /// <param name="value">A plane (N×C) or batch (0-dim) value.</param>
    /// <param name="n">N.</param>
    /// <param name="c">C.</param>
    /// <returns>The N×C values.</returns>
    public static Tensor ToPlanes(Tensor value, long n, long c)
    {
        using var wide = value.to(ScalarType.Float64);
        using var expanded = wide.expand(n, c);
        return expanded.clone();
    }

    /// <summary>A constant as an N×C float64 tensor.</summary>
    /// <param name="value">The constant.</param>
    /// <param name="n">N.</param>
    /// <param name="c">C.</param>
    /// <param name="device">The device.</param>
    /// <returns>The N×C values.</returns>
    public static Tensor ToPlanes(double value, long n, long c, Device device) => torch.full(n, c, value, ScalarType.Float64, device);

    private static void CheckKernel(int kernel)
    {
        if (kernel < 1 || kernel % 2 == 0)
        {
            throw new ArgumentOutOfRangeException(nameof(kernel), kernel, "The kernel size must be odd and positive.");
        }
    }

    /// <summary>1 where a &gt; b, else 0, in <paramref name="a"/>'s dtype.</summary>
    /// <param name="a">The first operand.</param>
    /// <param name="b">The second operand (broadcast).</param>
    /// <returns>The 0/1 mask.</returns>
    public static Tensor Greater(Tensor a, Tensor b)
    {
        using var mask = a.gt(b);
        return mask.to_type(a.dtype);
    }

    /// <summary>1 where a &lt; b, else 0, in <paramref name="a"/>'s dtype.</summary>
    /// <param name="a">The first operand.</param>
    /// <param name="b">The second operand (broadcast).</param>
    /// <returns>The 0/1 mask.</returns>
    public static Tensor Less(Tensor a, Tensor b)
    {
        using var mask = a.lt(b);
        return mask.to_type(a.dtype);
    }

    /// <summary><c>torch.where(c != 0, a, b)</c>.</summary>
    /// <param name="c">The condition (a 0/1 mask).</param>
    /// <param name="a">The values where it holds.</param>
    /// <param name="b">The values elsewhere.</param>
    /// <returns>The chosen values.</returns>
    public static Tensor Select(Tensor c, Tensor a, Tensor b)
    {
        using var holds = c.ne(0);
        return torch.where(holds, a, b);
    }
}
