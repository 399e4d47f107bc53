using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace LossDsl.Cpu;

/// <summary>
/// SIMD forms of the DSL's pointwise functions for generated CPU code, on <see cref="Vector256{T}"/> of <see cref="float"/>
/// and <see cref="double"/>. Each lane matches the scalar function of the same name in <see cref="Scalar"/>, NaN included.
/// </summary>
public static partial class VectorMath
{
    /// <summary><c>torch.sigmoid</c>: <c>1 / (1 + e^-x)</c>; saturates to 0 or 1 for large |x| without NaN.</summary>
    /// <param name="x">The lanes.</param>
    /// <returns>σ(x) per lane.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Sigmoid(Vector256<float> x) => Vector256<float>.One / (Vector256<float>.One + Vector256.Exp(-x));

    /// <inheritdoc cref="Sigmoid(Vector256{float})"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> Sigmoid(Vector256<double> x) => Vector256<double>.One / (Vector256<double>.One + Vector256.Exp(-x));

    /// <summary>σ(x) from <paramref name="e"/> = <c>e^-|x|</c>, which the kernel already has: <c>1 / (1 + e)</c> where x ≥ 0, <c>e / (1 + e)</c> elsewhere.</summary>
    /// <param name="x">The lanes.</param>
    /// <param name="e"><c>e^-|x|</c> per lane.</param>
    /// <returns>σ(x) per lane.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> SigmoidFromExp(Vector256<float> x, Vector256<float> e)
    {
        var r = Vector256<float>.One / (Vector256<float>.One + e);
        return Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(x, Vector256<float>.Zero), r, e * r);
    }

    /// <inheritdoc cref="SigmoidFromExp(Vector256{float}, Vector256{float})"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> SigmoidFromExp(Vector256<double> x, Vector256<double> e)
    {
        var r = Vector256<double>.One / (Vector256<double>.One + e);
        return Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(x, Vector256<double>.Zero), r, e * r);
    }

    /// <summary><c>log(1 + x)</c>, accurate for small x (the <c>u = 1 + x; log(u)·x/(u − 1)</c> correction).</summary>
    /// <param name="x">The lanes, each greater than −1.</param>
    /// <returns>log1p(x) per lane.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Log1p(Vector256<float> x)
    {
        var u = Vector256<float>.One + x;
        var d = u - Vector256<float>.One;
        return Vector256.ConditionalSelect(Vector256.Equals(d, Vector256<float>.Zero), x, Vector256.Log(u) * x / d);
    }

    /// <inheritdoc cref="Log1p(Vector256{float})"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> Log1p(Vector256<double> x)
    {
        var u = Vector256<double>.One + x;
        var d = u - Vector256<double>.One;
        return Vector256.ConditionalSelect(Vector256.Equals(d, Vector256<double>.Zero), x, Vector256.Log(u) * x / d);
    }

    /// <summary><c>F.softplus</c>: <c>max(x, 0) + log1p(e^-|x|)</c>.</summary>
    /// <param name="x">The lanes.</param>
    /// <returns>softplus(x) per lane.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Softplus(Vector256<float> x) => Vector256.Max(x, Vector256<float>.Zero) + Log1p(Vector256.Exp(-Vector256.Abs(x)));

    /// <inheritdoc cref="Softplus(Vector256{float})"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> Softplus(Vector256<double> x) => Vector256.Max(x, Vector256<double>.Zero) + Log1p(Vector256.Exp(-Vector256.Abs(x)));

    /// <summary><c>F.logsigmoid</c>: <c>min(x, 0) − log1p(e^-|x|)</c>.</summary>
    /// <param name="x">The lanes.</param>
    /// <returns>log σ(x) per lane.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> LogSigmoid(Vector256<float> x) => Vector256.Min(x, Vector256<float>.Zero) - Log1p(Vector256.Exp(-Vector256.Abs(x)));

    /// <inheritdoc cref="LogSigmoid(Vector256{float})"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> LogSigmoid(Vector256<double> x) => Vector256.Min(x, Vector256<double>.Zero) - Log1p(Vector256.Exp(-Vector256.Abs(x)));

    /// <summary>Stable <c>binary_cross_entropy_with_logits</c>: <c>max(x, 0) − x·t + log1p(e^-|x|)</c>.</summary>
    /// <param name="x">The logits.</param>
    /// <param name="t">The targets.</param>
    /// <returns>The per-lane loss.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> BceWithLogits(Vector256<float> x, Vector256<float> t) => Vector256.Max(x, Vector256<float>.Zero) - (x * t) + Log1p(Vector256.Exp(-Vector256.Abs(x)));

    /// <inheritdoc cref="BceWithLogits(Vector256{float}, Vector256{float})"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> BceWithLogits(Vector256<double> x, Vector256<double> t) => Vector256.Max(x, Vector256<double>.Zero) - (x * t) + Log1p(Vector256.Exp(-Vector256.Abs(x)));

    /// <summary>
    /// <c>torch.tanh</c>: <c>1 − 2 / (e^{2x} + 1)</c>, saturating to ±1; near 0, where that form cancels, the odd Taylor
    /// polynomial to x⁷ (its truncation error is below the element type's rounding there).
    /// </summary>
    /// <param name="x">The lanes.</param>
    /// <returns>tanh(x) per lane.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Tanh(Vector256<float> x)
    {
        var one = Vector256<float>.One;
        var large = one - (Vector256.Create(2f) / (Vector256.Exp(x + x) + one));
        var x2 = x * x;
        var small = x * (one - (x2 * (Vector256.Create(1f / 3) - (x2 * (Vector256.Create(2f / 15) - (x2 * Vector256.Create(17f / 315)))))));
        return Vector256.ConditionalSelect(Vector256.LessThan(Vector256.Abs(x), Vector256.Create(0.125f)), small, large);
    }

    /// <inheritdoc cref="Tanh(Vector256{float})"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> Tanh(Vector256<double> x)
    {
        var one = Vector256<double>.One;
        var large = one - (Vector256.Create(2.0) / (Vector256.Exp(x + x) + one));
        var x2 = x * x;
        var small = x * (one - (x2 * (Vector256.Create(1.0 / 3) - (x2 * (Vector256.Create(2.0 / 15) - (x2 * Vector256.Create(17.0 / 315)))))));
        return Vector256.ConditionalSelect(Vector256.LessThan(Vector256.Abs(x), Vector256.Create(0.0125)), small, large);
    }

    /// <summary>The sign (−1, 0, 1; NaN stays NaN): the derivative convention of <c>torch.abs</c>.</summary>
    /// <param name="x">The lanes.</param>
    /// <returns>sign(x) per lane.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Sign(Vector256<float> x)
    {
        var one = Vector256<float>.One;
        var s = (Vector256.GreaterThan(x, Vector256<float>.Zero) & one) - (Vector256.LessThan(x, Vector256<float>.Zero) & one);
        return Vector256.ConditionalSelect(Vector256.Equals(x, x), s, x);
    }

    /// <inheritdoc cref="Sign(Vector256{float})"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> Sign(Vector256<double> x)
    {
        var one = Vector256<double>.One;
        var s = (Vector256.GreaterThan(x, Vector256<double>.Zero) & one) - (Vector256.LessThan(x, Vector256<double>.Zero) & one);
        return Vector256.ConditionalSelect(Vector256.Equals(x, x), s, x);
    }

    /// <summary>1 where a &gt; b, ½ where equal, else 0: the derivative convention of <c>torch.maximum</c>.</summary>
    /// <param name="a">The first lanes.</param>
    /// <param name="b">The second lanes.</param>
    /// <returns>The step per lane.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Step(Vector256<float> a, Vector256<float> b) =>
        (Vector256.GreaterThan(a, b) & Vector256<float>.One) + (Vector256.Equals(a, b) & Vector256.Create(0.5f));

    /// <inheritdoc cref="Step(Vector256{float}, Vector256{float})"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> Step(Vector256<double> a, Vector256<double> b) =>
        (Vector256.GreaterThan(a, b) & Vector256<double>.One) + (Vector256.Equals(a, b) & Vector256.Create(0.5));

    /// <summary>1 where lo ≤ x ≤ hi, else 0: the derivative convention of <c>torch.clamp</c>.</summary>
    /// <param name="x">The lanes.</param>
    /// <param name="lo">The lower bound.</param>
    /// <param name="hi">The upper bound.</param>
    /// <returns>The indicator per lane.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> InRange(Vector256<float> x, float lo, float hi) =>
        Vector256.GreaterThanOrEqual(x, Vector256.Create(lo)) & Vector256.LessThanOrEqual(x, Vector256.Create(hi)) & Vector256<float>.One;

    /// <inheritdoc cref="InRange(Vector256{float}, float, float)"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> InRange(Vector256<double> x, double lo, double hi) =>
        Vector256.GreaterThanOrEqual(x, Vector256.Create(lo)) & Vector256.LessThanOrEqual(x, Vector256.Create(hi)) & Vector256<double>.One;

    /// <summary><c>torch.clamp(x, lo, hi)</c>, NaN propagating.</summary>
    /// <param name="x">The lanes.</param>
    /// <param name="lo">The lower bound.</param>
    /// <param name="hi">The upper bound.</param>
    /// <returns>The clamped lanes.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Clamp(Vector256<float> x, float lo, float hi) => Vector256.Min(Vector256.Max(x, Vector256.Create(lo)), Vector256.Create(hi));

    /// <inheritdoc cref="Clamp(Vector256{float}, float, float)"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> Clamp(Vector256<double> x, double lo, double hi) => Vector256.Min(Vector256.Max(x, Vector256.Create(lo)), Vector256.Create(hi));

    /// <summary><c>torch.pow(x, c)</c> for a constant exponent, as <c>e^(c·ln x)</c> where every lane is positive and lane by lane otherwise.</summary>
    /// <param name="x">The lanes.</param>
    /// <param name="c">The exponent.</param>
    /// <returns>xᶜ per lane.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Pow(Vector256<float> x, float c)
    {
        if (Vector256.GreaterThanAll(x, Vector256<float>.Zero))
        {
            return Vector256.Exp(Vector256.Create(c) * Vector256.Log(x));
        }

        return Vector256.Create(MathF.Pow(x[0], c), MathF.Pow(x[1], c), MathF.Pow(x[2], c), MathF.Pow(x[3], c), MathF.Pow(x[4], c), MathF.Pow(x[5], c), MathF.Pow(x[6], c), MathF.Pow(x[7], c));
    }

    /// <inheritdoc cref="Pow(Vector256{float}, float)"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> Pow(Vector256<double> x, double c)
    {
        if (Vector256.GreaterThanAll(x, Vector256<double>.Zero))
        {
            return Vector256.Exp(Vector256.Create(c) * Vector256.Log(x));
        }

        return Vector256.Create(Math.Pow(x[0], c), Math.Pow(x[1], c), Math.Pow(x[2], c), Math.Pow(x[3], c));
    }

    /// <summary>Adds the lanes of a float vector, widened to double, into a double accumulator.</summary>
    /// <param name="acc">The accumulator.</param>
    /// <param name="x">The lanes to add.</param>
    /// <returns>The new accumulator.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> Accumulate(Vector256<double> acc, Vector256<float> x)
    {
        var (lo, hi) = Vector256.Widen(x);
        return acc + lo + hi;
    }

    /// <summary>Adds double lanes into a double accumulator.</summary>
    /// <param name="acc">The accumulator.</param>
    /// <param name="x">The lanes to add.</param>
    /// <returns>The new accumulator.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> Accumulate(Vector256<double> acc, Vector256<double> x) => acc + x;

    /// <summary>1 where a &gt; b, else 0, per lane (NaN compares false).</summary>
    /// <param name="a">The first lanes.</param>
    /// <param name="b">The second lanes.</param>
    /// <returns>The 0/1 mask per lane.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Greater(Vector256<float> a, Vector256<float> b) => Vector256.GreaterThan(a, b) & Vector256<float>.One;

    /// <summary>1 where a &lt; b, else 0, per lane (NaN compares false).</summary>
    /// <param name="a">The first lanes.</param>
    /// <param name="b">The second lanes.</param>
    /// <returns>The 0/1 mask per lane.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Less(Vector256<float> a, Vector256<float> b) => Vector256.LessThan(a, b) & Vector256<float>.One;

    /// <summary><c>torch.where(c != 0, a, b)</c> per lane: the unchosen lane never reaches the result.</summary>
    /// <param name="c">The condition lanes (0/1).</param>
    /// <param name="a">The lanes where it holds.</param>
    /// <param name="b">The lanes elsewhere.</param>
    /// <returns>The chosen lanes.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Select(Vector256<float> c, Vector256<float> a, Vector256<float> b) => Vector256.ConditionalSelect(Vector256.Equals(c, Vector256<float>.Zero), b, a);

    /// <inheritdoc cref="Greater(Vector256{float}, Vector256{float})"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> Greater(Vector256<double> a, Vector256<double> b) => Vector256.GreaterThan(a, b) & Vector256<double>.One;

    /// <inheritdoc cref="Less(Vector256{float}, Vector256{float})"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> Less(Vector256<double> a, Vector256<double> b) => Vector256.LessThan(a, b) & Vector256<double>.One;

    /// <inheritdoc cref="Select(Vector256{float}, Vector256{float}, Vector256{float})"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> Select(Vector256<double> c, Vector256<double> a, Vector256<double> b) => Vector256.ConditionalSelect(Vector256.Equals(c, Vector256<double>.Zero), b, a);

    /// <summary><c>torch.relu</c> per lane: <c>max(x, 0)</c>, NaN staying NaN.</summary>
    /// <param name="x">The lanes.</param>
    /// <returns>relu(x) per lane.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Relu(Vector256<float> x) => Vector256.ConditionalSelect(Vector256.LessThanOrEqual(x, Vector256<float>.Zero), Vector256<float>.Zero, x);

    /// <inheritdoc cref="Relu(Vector256{float})"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> Relu(Vector256<double> x) => Vector256.ConditionalSelect(Vector256.LessThanOrEqual(x, Vector256<double>.Zero), Vector256<double>.Zero, x);
}
