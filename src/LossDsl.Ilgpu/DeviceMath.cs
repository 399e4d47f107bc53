using System.Runtime.CompilerServices;
using ILGPU.Algorithms;

namespace LossDsl.Ilgpu;

/// <summary>
/// Device-side scalar math for the generated kernels, in <see cref="float"/> (per-pixel programs) and <see cref="double"/>
/// (per-plane epilogues): the stable forms of <see cref="LossDsl.Scalar"/> written over <see cref="XMath"/>, so they
/// compile for PTX and OpenCL as well as for the CPU accelerator.
/// </summary>
public static class DeviceMath
{
    /// <summary>σ(x) = 1 / (1 + e^-x), without overflow for large |x|.</summary>
    /// <param name="x">The argument.</param>
    /// <returns>σ(x).</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sigmoid(float x)
    {
        float e = XMath.Exp(-XMath.Abs(x));
        return x >= 0f ? 1f / (1f + e) : e / (1f + e);
    }

    /// <summary>σ(x) from <paramref name="e"/> = e^-|x|, which the kernel already has.</summary>
    /// <param name="x">The argument.</param>
    /// <param name="e">e^-|x|.</param>
    /// <returns>σ(x).</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float SigmoidFromExp(float x, float e)
    {
        float r = 1f / (1f + e);
        return x >= 0f ? r : e * r;
    }

    /// <inheritdoc cref="SigmoidFromExp(float, float)"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double SigmoidFromExp(double x, double e)
    {
        double r = 1.0 / (1.0 + e);
        return x >= 0.0 ? r : e * r;
    }

    /// <summary>log(1 + e^x) as max(x, 0) + log1p(e^-|x|).</summary>
    /// <param name="x">The argument.</param>
    /// <returns>softplus(x).</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Softplus(float x) => XMath.Max(x, 0f) + Log1p(XMath.Exp(-XMath.Abs(x)));

    /// <summary>log σ(x) = min(x, 0) − log1p(e^-|x|).</summary>
    /// <param name="x">The argument.</param>
    /// <returns>log σ(x).</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float LogSigmoid(float x) => XMath.Min(x, 0f) - Log1p(XMath.Exp(-XMath.Abs(x)));

    /// <summary>Binary cross-entropy with logits in its stable form max(x, 0) − x·t + log1p(e^-|x|).</summary>
    /// <param name="x">The logit.</param>
    /// <param name="t">The target.</param>
    /// <returns>The per-element loss.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float BceWithLogits(float x, float t) => XMath.Max(x, 0f) - (x * t) + Log1p(XMath.Exp(-XMath.Abs(x)));

    /// <summary>log(1 + x), accurate for small x.</summary>
    /// <param name="x">The argument, greater than −1.</param>
    /// <returns>log(1 + x).</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Log1p(float x)
    {
        float u = 1f + x;
        return u == 1f ? x : XMath.Log(u) * x / (u - 1f);
    }

    /// <summary>e^x.</summary>
    /// <param name="x">The argument.</param>
    /// <returns>e^x.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Exp(float x) => XMath.Exp(x);

    /// <summary>The hyperbolic tangent.</summary>
    /// <param name="x">The argument.</param>
    /// <returns>tanh x.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Tanh(float x) => XMath.Tanh(x);

    /// <summary>The natural logarithm.</summary>
    /// <param name="x">The argument.</param>
    /// <returns>log x.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Log(float x) => XMath.Log(x);

    /// <summary>The square root.</summary>
    /// <param name="x">The argument.</param>
    /// <returns>√x.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sqrt(float x) => XMath.Sqrt(x);

    /// <summary>x raised to a constant power.</summary>
    /// <param name="x">The base.</param>
    /// <param name="y">The exponent.</param>
    /// <returns>x^y.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Pow(float x, float y) => XMath.Pow(x, y);

    /// <summary>|x|.</summary>
    /// <param name="x">The argument.</param>
    /// <returns>|x|.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Abs(float x) => XMath.Abs(x);

    /// <summary>The smaller argument.</summary>
    /// <param name="a">The first argument.</param>
    /// <param name="b">The second argument.</param>
    /// <returns>min(a, b).</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Min(float a, float b) => XMath.Min(a, b);

    /// <summary>The larger argument.</summary>
    /// <param name="a">The first argument.</param>
    /// <param name="b">The second argument.</param>
    /// <returns>max(a, b).</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Max(float a, float b) => XMath.Max(a, b);

    /// <summary>The derivative convention of |x|: the sign of x, 0 at 0 (NaN stays NaN).</summary>
    /// <param name="x">The argument.</param>
    /// <returns>−1, 0 or 1.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sign(float x) => x > 0f ? 1f : x < 0f ? -1f : x == 0f ? 0f : x;

    /// <summary>The derivative convention of max(a, b) w.r.t. a: 1 where a &gt; b, ½ where equal, else 0.</summary>
    /// <param name="a">The first argument.</param>
    /// <param name="b">The second argument.</param>
    /// <returns>1, ½ or 0.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Step(float a, float b) => a > b ? 1f : a == b ? 0.5f : 0f;

    /// <summary>1 where lo ≤ x ≤ hi, else 0 (the derivative of clamp).</summary>
    /// <param name="x">The argument.</param>
    /// <param name="lo">The lower bound.</param>
    /// <param name="hi">The upper bound.</param>
    /// <returns>1 or 0.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float InRange(float x, float lo, float hi) => x >= lo && x <= hi ? 1f : 0f;

    /// <summary>x clamped to [lo, hi] (NaN propagates).</summary>
    /// <param name="x">The argument.</param>
    /// <param name="lo">The lower bound.</param>
    /// <param name="hi">The upper bound.</param>
    /// <returns>clamp(x, lo, hi).</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Clamp(float x, float lo, float hi) => x < lo ? lo : x > hi ? hi : x;

    /// <summary>σ(x) = 1 / (1 + e^-x), without overflow for large |x|.</summary>
    /// <param name="x">The argument.</param>
    /// <returns>σ(x).</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Sigmoid(double x)
    {
        double e = XMath.Exp(-XMath.Abs(x));
        return x >= 0.0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
    }

    /// <summary>log(1 + e^x) as max(x, 0) + log1p(e^-|x|).</summary>
    /// <param name="x">The argument.</param>
    /// <returns>softplus(x).</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Softplus(double x) => XMath.Max(x, 0.0) + Log1p(XMath.Exp(-XMath.Abs(x)));

    /// <summary>log σ(x) = min(x, 0) − log1p(e^-|x|).</summary>
    /// <param name="x">The argument.</param>
    /// <returns>log σ(x).</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double LogSigmoid(double x) => XMath.Min(x, 0.0) - Log1p(XMath.Exp(-XMath.Abs(x)));

    /// <summary>Binary cross-entropy with logits in its stable form max(x, 0) − x·t + log1p(e^-|x|).</summary>
    /// <param name="x">The logit.</param>
    /// <param name="t">The target.</param>
    /// <returns>The per-element loss.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double BceWithLogits(double x, double t) => XMath.Max(x, 0.0) - (x * t) + Log1p(XMath.Exp(-XMath.Abs(x)));

    /// <summary>log(1 + x), accurate for small x.</summary>
    /// <param name="x">The argument, greater than −1.</param>
    /// <returns>log(1 + x).</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Log1p(double x)
    {
        double u = 1.0 + x;
        return u == 1.0 ? x : XMath.Log(u) * x / (u - 1.0);
    }

    /// <summary>e^x.</summary>
    /// <param name="x">The argument.</param>
    /// <returns>e^x.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Exp(double x) => XMath.Exp(x);

    /// <inheritdoc cref="Tanh(float)"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Tanh(double x) => XMath.Tanh(x);

    /// <summary>The natural logarithm.</summary>
    /// <param name="x">The argument.</param>
    /// <returns>log x.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Log(double x) => XMath.Log(x);

    /// <summary>The square root.</summary>
    /// <param name="x">The argument.</param>
    /// <returns>√x.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Sqrt(double x) => XMath.Sqrt(x);

    /// <summary>x raised to a constant power.</summary>
    /// <param name="x">The base.</param>
    /// <param name="y">The exponent.</param>
    /// <returns>x^y.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Pow(double x, double y) => XMath.Pow(x, y);

    /// <summary>|x|.</summary>
    /// <param name="x">The argument.</param>
    /// <returns>|x|.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Abs(double x) => XMath.Abs(x);

    /// <summary>The smaller argument.</summary>
    /// <param name="a">The first argument.</param>
    /// <param name="b">The second argument.</param>
    /// <returns>min(a, b).</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Min(double a, double b) => XMath.Min(a, b);

    /// <summary>The larger argument.</summary>
    /// <param name="a">The first argument.</param>
    /// <param name="b">The second argument.</param>
    /// <returns>max(a, b).</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Max(double a, double b) => XMath.Max(a, b);

    /// <summary>The derivative convention of |x|: the sign of x, 0 at 0 (NaN stays NaN).</summary>
    /// <param name="x">The argument.</param>
    /// <returns>−1, 0 or 1.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Sign(double x) => x > 0.0 ? 1.0 : x < 0.0 ? -1.0 : x == 0.0 ? 0.0 : x;

    /// <summary>The derivative convention of max(a, b) w.r.t. a: 1 where a &gt; b, ½ where equal, else 0.</summary>
    /// <param name="a">The first argument.</param>
    /// <param name="b">The second argument.</param>
    /// <returns>1, ½ or 0.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Step(double a, double b) => a > b ? 1.0 : a == b ? 0.5 : 0.0;

    /// <summary>1 where lo ≤ x ≤ hi, else 0 (the derivative of clamp).</summary>
    /// <param name="x">The argument.</param>
    /// <param name="lo">The lower bound.</param>
    /// <param name="hi">The upper bound.</param>
    /// <returns>1 or 0.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double InRange(double x, double lo, double hi) => x >= lo && x <= hi ? 1.0 : 0.0;

    /// <summary>x clamped to [lo, hi] (NaN propagates).</summary>
    /// <param name="x">The argument.</param>
    /// <param name="lo">The lower bound.</param>
    /// <param name="hi">The upper bound.</param>
    /// <returns>clamp(x, lo, hi).</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Clamp(double x, double lo, double hi) => x < lo ? lo : x > hi ? hi : x;

    /// <summary>1 where a &gt; b, else 0.</summary>
    /// <param name="a">The first operand.</param>
    /// <param name="b">The second operand.</param>
    /// <returns>The 0/1 mask.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Greater(float a, float b) => a > b ? 1f : 0f;

    /// <inheritdoc cref="Greater(float, float)"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Greater(double a, double b) => a > b ? 1.0 : 0.0;

    /// <summary>1 where a &lt; b, else 0.</summary>
    /// <param name="a">The first operand.</param>
    /// <param name="b">The second operand.</param>
    /// <returns>The 0/1 mask.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Less(float a, float b) => a < b ? 1f : 0f;

    /// <inheritdoc cref="Less(float, float)"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Less(double a, double b) => a < b ? 1.0 : 0.0;

    /// <summary>a where c ≠ 0, else b.</summary>
    /// <param name="c">The condition.</param>
    /// <param name="a">The value where it holds.</param>
    /// <param name="b">The value elsewhere.</param>
    /// <returns>The chosen value.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Select(float c, float a, float b) => c != 0f ? a : b;

    /// <inheritdoc cref="Select(float, float, float)"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Select(double c, double a, double b) => c != 0.0 ? a : b;

    /// <summary>max(x, 0), NaN staying NaN.</summary>
    /// <param name="x">The argument.</param>
    /// <returns>relu(x).</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Relu(float x) => x <= 0f ? 0f : x;

    /// <inheritdoc cref="Relu(float)"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Relu(double x) => x <= 0.0 ? 0.0 : x;
}
