using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace LossDsl.Cpu;

/// <summary>
/// The <see cref="Vector512{T}"/> forms of the SIMD helpers, lane for lane the same formulas as their
/// <see cref="Vector256{T}"/> forms, so that a kernel gives the same bits at either width.
/// </summary>
public static partial class VectorMath
{
    /// <summary>
    /// Whether generated kernels run their main loop over <see cref="Vector512{T}"/>; true where the hardware accelerates it.
    /// Either width gives the same results bit for bit (the helpers compute the same formulas per lane, and accumulators
    /// take the lanes in the same order); setting it is for benchmarks and tests.
    /// </summary>
    public static bool UseVector512 { get; set; } = Vector512.IsHardwareAccelerated;

    /// <inheritdoc cref="Sigmoid(Vector256{float})"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Sigmoid(Vector512<float> x) => Vector512<float>.One / (Vector512<float>.One + Vector512.Exp(-x));

    /// <inheritdoc cref="Sigmoid(Vector256{double})"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> Sigmoid(Vector512<double> x) => Vector512<double>.One / (Vector512<double>.One + Vector512.Exp(-x));

    /// <inheritdoc cref="SigmoidFromExp(Vector256{float}, Vector256{float})"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> SigmoidFromExp(Vector512<float> x, Vector512<float> e)
    {
        var r = Vector512<float>.One / (Vector512<float>.One + e);
        return Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(x, Vector512<float>.Zero), r, e * r);
    }

    /// <inheritdoc cref="SigmoidFromExp(Vector256{double}, Vector256{double})"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> SigmoidFromExp(Vector512<double> x, Vector512<double> e)
    {
        var r = Vector512<double>.One / (Vector512<double>.One + e);
        return Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(x, Vector512<double>.Zero), r, e * r);
    }

    /// <inheritdoc cref="Log1p(Vector256{float})"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Log1p(Vector512<float> x)
    {
        var u = Vector512<float>.One + x;
        var d = u - Vector512<float>.One;
        return Vector512.ConditionalSelect(Vector512.Equals(d, Vector512<float>.Zero), x, Vector512.Log(u) * x / d);
    }

    /// <inheritdoc cref="Log1p(Vector256{double})"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> Log1p(Vector512<double> x)
    {
        var u = Vector512<double>.One + x;
        var d = u - Vector512<double>.One;
        return Vector512.ConditionalSelect(Vector512.Equals(d, Vector512<double>.Zero), x, Vector512.Log(u) * x / d);
    }

    /// <inheritdoc cref="Softplus(Vector256{float})"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Softplus(Vector512<float> x) => Vector512.Max(x, Vector512<float>.Zero) + Log1p(Vector512.Exp(-Vector512.Abs(x)));

    /// <inheritdoc cref="Softplus(Vector256{double})"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> Softplus(Vector512<double> x) => Vector512.Max(x, Vector512<double>.Zero) + Log1p(Vector512.Exp(-Vector512.Abs(x)));

    /// <inheritdoc cref="LogSigmoid(Vector256{float})"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> LogSigmoid(Vector512<float> x) => Vector512.Min(x, Vector512<float>.Zero) - Log1p(Vector512.Exp(-Vector512.Abs(x)));

    /// <inheritdoc cref="LogSigmoid(Vector256{double})"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> LogSigmoid(Vector512<double> x) => Vector512.Min(x, Vector512<double>.Zero) - Log1p(Vector512.Exp(-Vector512.Abs(x)));

    /// <inheritdoc cref="BceWithLogits(Vector256{float}, Vector256{float})"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> BceWithLogits(Vector512<float> x, Vector512<float> t) => Vector512.Max(x, Vector512<float>.Zero) - (x * t) + Log1p(Vector512.Exp(-Vector512.Abs(x)));

    /// <inheritdoc cref="BceWithLogits(Vector256{double}, Vector256{double})"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> BceWithLogits(Vector512<double> x, Vector512<double> t) => Vector512.Max(x, Vector512<double>.Zero) - (x * t) + Log1p(Vector512.Exp(-Vector512.Abs(x)));

    /// <inheritdoc cref="Tanh(Vector256{float})"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Tanh(Vector512<float> x)
    {
        var one = Vector512<float>.One;
        var large = one - (Vector512.Create(2f) / (Vector512.Exp(x + x) + one));
        var x2 = x * x;
        var small = x * (one - (x2 * (Vector512.Create(1f / 3) - (x2 * (Vector512.Create(2f / 15) - (x2 * Vector512.Create(17f / 315)))))));
        return Vector512.ConditionalSelect(Vector512.LessThan(Vector512.Abs(x), Vector512.Create(0.125f)), small, large);
    }

    /// <inheritdoc cref="Tanh(Vector256{double})"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> Tanh(Vector512<double> x)
    {
        var one = Vector512<double>.One;
        var large = one - (Vector512.Create(2.0) / (Vector512.Exp(x + x) + one));
        var x2 = x * x;
        var small = x * (one - (x2 * (Vector512.Create(1.0 / 3) - (x2 * (Vector512.Create(2.0 / 15) - (x2 * Vector512.Create(17.0 / 315)))))));
        return Vector512.ConditionalSelect(Vector512.LessThan(Vector512.Abs(x), Vector512.Create(0.0125)), small, large);
    }

    /// <inheritdoc cref="Sign(Vector256{float})"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Sign(Vector512<float> x)
    {
        var one = Vector512<float>.One;
        var s = (Vector512.GreaterThan(x, Vector512<float>.Zero) & one) - (Vector512.LessThan(x, Vector512<float>.Zero) & one);
        return Vector512.ConditionalSelect(Vector512.Equals(x, x), s, x);
    }

    /// <inheritdoc cref="Sign(Vector256{double})"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> Sign(Vector512<double> x)
    {
        var one = Vector512<double>.One;
        var s = (Vector512.GreaterThan(x, Vector512<double>.Zero) & one) - (Vector512.LessThan(x, Vector512<double>.Zero) & one);
        return Vector512.ConditionalSelect(Vector512.Equals(x, x), s, x);
    }

    /// <inheritdoc cref="Step(Vector256{float}, Vector256{float})"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Step(Vector512<float> a, Vector512<float> b) =>
        (Vector512.GreaterThan(a, b) & Vector512<float>.One) + (Vector512.Equals(a, b) & Vector512.Create(0.5f));

    /// <inheritdoc cref="Step(Vector256{double}, Vector256{double})"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> Step(Vector512<double> a, Vector512<double> b) =>
        (Vector512.GreaterThan(a, b) & Vector512<double>.One) + (Vector512.Equals(a, b) & Vector512.Create(0.5));

    /// <inheritdoc cref="InRange(Vector256{float}, float, float)"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> InRange(Vector512<float> x, float lo, float hi) =>
        Vector512.GreaterThanOrEqual(x, Vector512.Create(lo)) & Vector512.LessThanOrEqual(x, Vector512.Create(hi)) & Vector512<float>.One;

    /// <inheritdoc cref="InRange(Vector256{double}, double, double)"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> InRange(Vector512<double> x, double lo, double hi) =>
        Vector512.GreaterThanOrEqual(x, Vector512.Create(lo)) & Vector512.LessThanOrEqual(x, Vector512.Create(hi)) & Vector512<double>.One;

    /// <inheritdoc cref="Clamp(Vector256{float}, float, float)"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Clamp(Vector512<float> x, float lo, float hi) => Vector512.Min(Vector512.Max(x, Vector512.Create(lo)), Vector512.Create(hi));

    /// <inheritdoc cref="Clamp(Vector256{double}, double, double)"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> Clamp(Vector512<double> x, double lo, double hi) => Vector512.Min(Vector512.Max(x, Vector512.Create(lo)), Vector512.Create(hi));

    /// <inheritdoc cref="Pow(Vector256{float}, float)"/>
    /// <remarks>Per 256-bit half, as the <see cref="Vector256{T}"/> form would see the same lanes.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Pow(Vector512<float> x, float c) => Vector512.Create(Pow(x.GetLower(), c), Pow(x.GetUpper(), c));

    /// <inheritdoc cref="Pow(Vector256{double}, double)"/>
    /// <remarks>Per 256-bit half, as the <see cref="Vector256{T}"/> form would see the same lanes.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> Pow(Vector512<double> x, double c) => Vector512.Create(Pow(x.GetLower(), c), Pow(x.GetUpper(), c));

    /// <summary>
    /// Adds sixteen float lanes, widened to double, into the four-lane accumulator four at a time in lane order: the same
    /// additions in the same order as two <see cref="Accumulate(Vector256{double}, Vector256{float})"/> calls.
    /// </summary>
    /// <param name="acc">The accumulator.</param>
    /// <param name="x">The lanes to add.</param>
    /// <returns>The new accumulator.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> Accumulate(Vector256<double> acc, Vector512<float> x)
    {
        acc = Accumulate(acc, x.GetLower());
        return Accumulate(acc, x.GetUpper());
    }

    /// <summary>Adds eight double lanes into the four-lane accumulator, lower half first (as two 256-bit calls would).</summary>
    /// <param name="acc">The accumulator.</param>
    /// <param name="x">The lanes to add.</param>
    /// <returns>The new accumulator.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> Accumulate(Vector256<double> acc, Vector512<double> x) => acc + x.GetLower() + x.GetUpper();

    /// <inheritdoc cref="Greater(Vector256{float}, Vector256{float})"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Greater(Vector512<float> a, Vector512<float> b) => Vector512.GreaterThan(a, b) & Vector512<float>.One;

    /// <inheritdoc cref="Less(Vector256{float}, Vector256{float})"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Less(Vector512<float> a, Vector512<float> b) => Vector512.LessThan(a, b) & Vector512<float>.One;

    /// <inheritdoc cref="Select(Vector256{float}, Vector256{float}, Vector256{float})"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Select(Vector512<float> c, Vector512<float> a, Vector512<float> b) => Vector512.ConditionalSelect(Vector512.Equals(c, Vector512<float>.Zero), b, a);

    /// <inheritdoc cref="Greater(Vector256{double}, Vector256{double})"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> Greater(Vector512<double> a, Vector512<double> b) => Vector512.GreaterThan(a, b) & Vector512<double>.One;

    /// <inheritdoc cref="Less(Vector256{double}, Vector256{double})"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> Less(Vector512<double> a, Vector512<double> b) => Vector512.LessThan(a, b) & Vector512<double>.One;

    /// <inheritdoc cref="Select(Vector256{double}, Vector256{double}, Vector256{double})"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> Select(Vector512<double> c, Vector512<double> a, Vector512<double> b) => Vector512.ConditionalSelect(Vector512.Equals(c, Vector512<double>.Zero), b, a);

    /// <inheritdoc cref="Relu(Vector256{float})"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Relu(Vector512<float> x) => Vector512.ConditionalSelect(Vector512.LessThanOrEqual(x, Vector512<float>.Zero), Vector512<float>.Zero, x);

    /// <inheritdoc cref="Relu(Vector256{double})"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> Relu(Vector512<double> x) => Vector512.ConditionalSelect(Vector512.LessThanOrEqual(x, Vector512<double>.Zero), Vector512<double>.Zero, x);
}
