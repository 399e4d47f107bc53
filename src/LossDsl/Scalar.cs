using System;
using System.Runtime.CompilerServices;

namespace LossDsl;

/// <summary>
/// Numerically stable scalar functions shared by the reference interpreter and generated code, in <see cref="double"/> and
/// <see cref="float"/>. Each matches the PyTorch function it names, including at extreme arguments.
/// </summary>
public static class Scalar
{
    /// <summary><c>torch.sigmoid</c>: <c>1 / (1 + e^-x)</c> without overflow for large |x|.</summary>
    /// <param name="x">The argument.</param>
    /// <returns>σ(x).</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Sigmoid(double x)
    {
        if (x >= 0)
        {
            return 1.0 / (1.0 + Math.Exp(-x));
        }

        double e = Math.Exp(x);
        return e / (1.0 + e);
    }

    /// <summary>σ(x) from <paramref name="e"/> = <c>e^-|x|</c>, which the caller already has: <c>1 / (1 + e)</c> for x ≥ 0, <c>e / (1 + e)</c> below.</summary>
    /// <param name="x">The argument.</param>
    /// <param name="e"><c>e^-|x|</c>.</param>
    /// <returns>σ(x).</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double SigmoidFromExp(double x, double e)
    {
        double r = 1.0 / (1.0 + e);
        return x >= 0 ? r : e * r;
    }

    /// <inheritdoc cref="SigmoidFromExp(double, double)"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float SigmoidFromExp(float x, float e)
    {
        float r = 1f / (1f + e);
        return x >= 0 ? r : e * r;
    }

    /// <summary><c>F.softplus</c>: <c>log(1 + e^x)</c>, computed as <c>max(x, 0) + log1p(e^-|x|)</c>.</summary>
    /// <param name="x">The argument.</param>
    /// <returns>softplus(x).</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Softplus(double x) => Math.Max(x, 0.0) + Log1p(Math.Exp(-Math.Abs(x)));

    /// <summary><c>F.logsigmoid</c>: <c>log σ(x) = -softplus(-x)</c>.</summary>
    /// <param name="x">The argument.</param>
    /// <returns>log σ(x).</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double LogSigmoid(double x) => Math.Min(x, 0.0) - Log1p(Math.Exp(-Math.Abs(x)));

    /// <summary><c>F.binary_cross_entropy_with_logits(x, t, reduction='none')</c> in its stable form <c>max(x, 0) − x·t + log1p(e^-|x|)</c>.</summary>
    /// <param name="x">The logit.</param>
    /// <param name="t">The target.</param>
    /// <returns>The per-element loss.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double BceWithLogits(double x, double t) => Math.Max(x, 0.0) - (x * t) + Log1p(Math.Exp(-Math.Abs(x)));

    /// <summary><c>log(1 + x)</c>, accurate for small x.</summary>
    /// <param name="x">The argument, greater than −1.</param>
    /// <returns>log(1 + x).</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Log1p(double x)
    {
        double u = 1.0 + x;
        return u == 1.0 ? x : Math.Log(u) * x / (u - 1.0);
    }

    /// <summary>The derivative convention of <c>torch.abs</c>: the sign of <paramref name="x"/>, 0 at 0.</summary>
    /// <param name="x">The argument.</param>
    /// <returns>−1, 0 or 1 (NaN stays NaN).</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Sign(double x) => x > 0 ? 1.0 : x < 0 ? -1.0 : x == 0 ? 0.0 : x;

    /// <summary>The derivative convention of <c>torch.maximum(a, b)</c> w.r.t. <c>a</c>: 1 where a &gt; b, ½ where equal, 0 where less.</summary>
    /// <param name="a">The first argument.</param>
    /// <param name="b">The second argument.</param>
    /// <returns>1, ½ or 0.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Step(double a, double b) => a > b ? 1.0 : a == b ? 0.5 : 0.0;

    /// <summary>The derivative convention of <c>torch.clamp(x, lo, hi)</c>: 1 where lo ≤ x ≤ hi, else 0.</summary>
    /// <param name="x">The argument.</param>
    /// <param name="lo">The lower bound.</param>
    /// <param name="hi">The upper bound.</param>
    /// <returns>1 or 0.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double InRange(double x, double lo, double hi) => x >= lo && x <= hi ? 1.0 : 0.0;

    /// <summary><c>torch.clamp(x, lo, hi)</c> (NaN propagates).</summary>
    /// <param name="x">The argument.</param>
    /// <param name="lo">The lower bound.</param>
    /// <param name="hi">The upper bound.</param>
    /// <returns>x clamped to [lo, hi].</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Clamp(double x, double lo, double hi) => x < lo ? lo : x > hi ? hi : x;

    /// <inheritdoc cref="Sigmoid(double)"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sigmoid(float x)
    {
        if (x >= 0)
        {
            return 1f / (1f + MathF.Exp(-x));
        }

        float e = MathF.Exp(x);
        return e / (1f + e);
    }

    /// <inheritdoc cref="Softplus(double)"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Softplus(float x) => MathF.Max(x, 0f) + Log1p(MathF.Exp(-MathF.Abs(x)));

    /// <inheritdoc cref="LogSigmoid(double)"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float LogSigmoid(float x) => MathF.Min(x, 0f) - Log1p(MathF.Exp(-MathF.Abs(x)));

    /// <inheritdoc cref="BceWithLogits(double, double)"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float BceWithLogits(float x, float t) => MathF.Max(x, 0f) - (x * t) + Log1p(MathF.Exp(-MathF.Abs(x)));

    /// <inheritdoc cref="Log1p(double)"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Log1p(float x)
    {
        float u = 1f + x;
        return u == 1f ? x : MathF.Log(u) * x / (u - 1f);
    }

    /// <inheritdoc cref="Sign(double)"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sign(float x) => x > 0 ? 1f : x < 0 ? -1f : x == 0 ? 0f : x;

    /// <inheritdoc cref="Step(double, double)"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Step(float a, float b) => a > b ? 1f : a == b ? 0.5f : 0f;

    /// <inheritdoc cref="InRange(double, double, double)"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float InRange(float x, float lo, float hi) => x >= lo && x <= hi ? 1f : 0f;

    /// <inheritdoc cref="Clamp(double, double, double)"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Clamp(float x, float lo, float hi) => x < lo ? lo : x > hi ? hi : x;

    /// <summary>1 where <paramref name="a"/> &gt; <paramref name="b"/>, else 0 (<c>(a &gt; b).float()</c>; NaN compares false).</summary>
    /// <param name="a">The first operand.</param>
    /// <param name="b">The second operand.</param>
    /// <returns>The 0/1 mask.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Greater(double a, double b) => a > b ? 1.0 : 0.0;

    /// <inheritdoc cref="Greater(double, double)"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Greater(float a, float b) => a > b ? 1f : 0f;

    /// <summary>1 where <paramref name="a"/> &lt; <paramref name="b"/>, else 0 (<c>(a &lt; b).float()</c>; NaN compares false).</summary>
    /// <param name="a">The first operand.</param>
    /// <param name="b">The second operand.</param>
    /// <returns>The 0/1 mask.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Less(double a, double b) => a < b ? 1.0 : 0.0;

    /// <inheritdoc cref="Less(double, double)"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Less(float a, float b) => a < b ? 1f : 0f;

    /// <summary><c>torch.where(c != 0, a, b)</c>: the unchosen value never reaches the result, NaN or ∞ included.</summary>
    /// <param name="c">The condition (a 0/1 mask).</param>
    /// <param name="a">The value where the condition holds.</param>
    /// <param name="b">The value elsewhere.</param>
    /// <returns>The chosen value.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Select(double c, double a, double b) => c != 0 ? a : b;

    /// <inheritdoc cref="Select(double, double, double)"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Select(float c, float a, float b) => c != 0 ? a : b;

    /// <summary><c>torch.relu</c>: <c>max(x, 0)</c>, NaN staying NaN.</summary>
    /// <param name="x">The argument.</param>
    /// <returns>relu(x).</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Relu(double x) => x <= 0 ? 0.0 : x;

    /// <inheritdoc cref="Relu(double)"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Relu(float x) => x <= 0 ? 0f : x;
}
