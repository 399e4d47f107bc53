using System;

namespace LossDsl;

/// <summary>
/// One value per (n, c) plane, the result of a spatial reduction such as <see cref="Dsl.Sum(Field)"/> (rank <em>Plane</em>).
/// A term returns a <see cref="Plane"/>.
/// </summary>
public sealed class Plane
{
    /// <summary>Wraps per-plane values (length <see cref="LossShape.Planes"/>) without copying.</summary>
    /// <param name="shape">The batch shape the planes belong to.</param>
    /// <param name="data">One value per plane, n-major.</param>
    public Plane(LossShape shape, double[] data)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.Length != shape.Planes)
        {
            throw new ArgumentException($"Expected {shape.Planes} plane values for shape {shape}; got {data.Length}.", nameof(data));
        }

        Shape = shape;
        Data = data;
    }

    /// <summary>The batch shape.</summary>
    public LossShape Shape { get; }

    /// <summary>One value per plane, n-major.</summary>
    public ReadOnlySpan<double> Values => Data;

    internal double[] Data { get; }

    internal static Plane Map(Plane x, Func<double, double> f)
    {
        var r = new double[x.Data.Length];
        for (int i = 0; i < r.Length; i++)
        {
            r[i] = f(x.Data[i]);
        }

        return new Plane(x.Shape, r);
    }

    internal static Plane Zip(Plane a, Plane b, Func<double, double, double> f)
    {
        if (a.Shape != b.Shape)
        {
            throw new ArgumentException($"Shapes differ: {a.Shape} and {b.Shape}.");
        }

        var r = new double[a.Data.Length];
        for (int i = 0; i < r.Length; i++)
        {
            r[i] = f(a.Data[i], b.Data[i]);
        }

        return new Plane(a.Shape, r);
    }

    /// <summary>Per-plane sum.</summary>
    public static Plane operator +(Plane a, Plane b) => Zip(a, b, static (x, y) => x + y);

    /// <summary>Adds a constant.</summary>
    public static Plane operator +(Plane a, double b) => Map(a, x => x + b);

    /// <summary>Adds a constant.</summary>
    public static Plane operator +(double a, Plane b) => Map(b, x => a + x);

    /// <summary>Per-plane difference.</summary>
    public static Plane operator -(Plane a, Plane b) => Zip(a, b, static (x, y) => x - y);

    /// <summary>Subtracts a constant.</summary>
    public static Plane operator -(Plane a, double b) => Map(a, x => x - b);

    /// <summary>A constant minus each plane value.</summary>
    public static Plane operator -(double a, Plane b) => Map(b, x => a - x);

    /// <summary>Per-plane product.</summary>
    public static Plane operator *(Plane a, Plane b) => Zip(a, b, static (x, y) => x * y);

    /// <summary>Scales by a constant.</summary>
    public static Plane operator *(Plane a, double b) => Map(a, x => x * b);

    /// <summary>Scales by a constant.</summary>
    public static Plane operator *(double a, Plane b) => Map(b, x => a * x);

    /// <summary>Per-plane quotient.</summary>
    public static Plane operator /(Plane a, Plane b) => Zip(a, b, static (x, y) => x / y);

    /// <summary>Divides by a constant.</summary>
    public static Plane operator /(Plane a, double b) => Map(a, x => x / b);

    /// <summary>A constant divided by each plane value.</summary>
    public static Plane operator /(double a, Plane b) => Map(b, x => a / x);

    /// <summary>Negation.</summary>
    public static Plane operator -(Plane a) => Map(a, static x => -x);

    /// <summary>Adds a whole-batch value to every plane.</summary>
    public static Plane operator +(Plane a, Batch b) => Map(a, x => x + b.Value);

    /// <summary>Adds a whole-batch value to every plane.</summary>
    public static Plane operator +(Batch a, Plane b) => Map(b, x => a.Value + x);

    /// <summary>Subtracts a whole-batch value from every plane.</summary>
    public static Plane operator -(Plane a, Batch b) => Map(a, x => x - b.Value);

    /// <summary>A whole-batch value minus every plane.</summary>
    public static Plane operator -(Batch a, Plane b) => Map(b, x => a.Value - x);

    /// <summary>Multiplies every plane by a whole-batch value.</summary>
    public static Plane operator *(Plane a, Batch b) => Map(a, x => x * b.Value);

    /// <summary>Multiplies every plane by a whole-batch value.</summary>
    public static Plane operator *(Batch a, Plane b) => Map(b, x => a.Value * x);

    /// <summary>Divides every plane by a whole-batch value.</summary>
    public static Plane operator /(Plane a, Batch b) => Map(a, x => x / b.Value);

    /// <summary>A whole-batch value divided by every plane.</summary>
    public static Plane operator /(Batch a, Plane b) => Map(b, x => a.Value / x);
}

/// <summary>One value for the whole batch, such as <see cref="Dsl.BatchMean(Field)"/> (rank <em>Batch</em>). A term may return it; it is then added to every plane's loss.</summary>
public sealed class Batch
{
    /// <summary>Wraps a value.</summary>
    /// <param name="value">The value.</param>
    public Batch(double value) => Value = value;

    /// <summary>The value.</summary>
    public double Value { get; }

    /// <summary>Sum.</summary>
    public static Batch operator +(Batch a, Batch b) => new(a.Value + b.Value);

    /// <summary>Adds a constant.</summary>
    public static Batch operator +(Batch a, double b) => new(a.Value + b);

    /// <summary>Adds a constant.</summary>
    public static Batch operator +(double a, Batch b) => new(a + b.Value);

    /// <summary>Difference.</summary>
    public static Batch operator -(Batch a, Batch b) => new(a.Value - b.Value);

    /// <summary>Subtracts a constant.</summary>
    public static Batch operator -(Batch a, double b) => new(a.Value - b);

    /// <summary>A constant minus the value.</summary>
    public static Batch operator -(double a, Batch b) => new(a - b.Value);

    /// <summary>Product.</summary>
    public static Batch operator *(Batch a, Batch b) => new(a.Value * b.Value);

    /// <summary>Scales by a constant.</summary>
    public static Batch operator *(Batch a, double b) => new(a.Value * b);

    /// <summary>Scales by a constant.</summary>
    public static Batch operator *(double a, Batch b) => new(a * b.Value);

    /// <summary>Quotient.</summary>
    public static Batch operator /(Batch a, Batch b) => new(a.Value / b.Value);

    /// <summary>Divides by a constant.</summary>
    public static Batch operator /(Batch a, double b) => new(a.Value / b);

    /// <summary>A constant divided by the value.</summary>
    public static Batch operator /(double a, Batch b) => new(a / b.Value);

    /// <summary>Negation.</summary>
    public static Batch operator -(Batch a) => new(-a.Value);
}
