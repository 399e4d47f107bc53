using System;

namespace LossDsl;

/// <summary>
/// One value per pixel of an N×C×H×W batch (rank <em>Field</em>). In a loss declaration it is symbolic: the generator
/// reads the expression. Called with data, it computes in double precision with plain loops — the reference interpreter
/// that every backend is tested against.
/// </summary>
public class Field
{
    private readonly double[] _data;

    /// <summary>Wraps <paramref name="data"/> (contiguous NCHW, length <see cref="LossShape.Length"/>) without copying.</summary>
    /// <param name="shape">The batch shape.</param>
    /// <param name="data">The values.</param>
    public Field(LossShape shape, double[] data)
    {
        ArgumentNullException.ThrowIfNull(data);
        shape.Validate(nameof(shape));
        if (data.Length != shape.Length)
        {
            throw new ArgumentException($"Expected {shape.Length} values for shape {shape}; got {data.Length}.", nameof(data));
        }

        Shape = shape;
        _data = data;
    }

    /// <summary>The batch shape.</summary>
    public LossShape Shape { get; }

    /// <summary>The values, contiguous NCHW.</summary>
    public ReadOnlySpan<double> Values => _data;

    internal double[] Data => _data;

    internal static Field Map(Field x, Func<double, double> f)
    {
        var r = new double[x._data.Length];
        for (int i = 0; i < r.Length; i++)
        {
            r[i] = f(x._data[i]);
        }

        return new Field(x.Shape, r);
    }

    internal static Field Zip(Field a, Field b, Func<double, double, double> f)
    {
        if (a.Shape != b.Shape)
        {
            throw new ArgumentException($"Shapes differ: {a.Shape} and {b.Shape}.");
        }

        var r = new double[a._data.Length];
        for (int i = 0; i < r.Length; i++)
        {
            r[i] = f(a._data[i], b._data[i]);
        }

        return new Field(a.Shape, r);
    }

    internal static Field ZipPlane(Field a, Plane b, Func<double, double, double> f)
    {
        if (a.Shape != b.Shape)
        {
            throw new ArgumentException($"Shapes differ: {a.Shape} and {b.Shape}.");
        }

        var r = new double[a._data.Length];
        int hw = a.Shape.PlaneSize;
        for (int i = 0; i < r.Length; i++)
        {
            r[i] = f(a._data[i], b.Data[i / hw]);
        }

        return new Field(a.Shape, r);
    }

    /// <summary>Pixel-wise sum (<c>a + b</c>).</summary>
    public static Field operator +(Field a, Field b) => Zip(a, b, static (x, y) => x + y);

    /// <summary>Adds a constant to every pixel.</summary>
    public static Field operator +(Field a, double b) => Map(a, x => x + b);

    /// <summary>Adds a constant to every pixel.</summary>
    public static Field operator +(double a, Field b) => Map(b, x => a + x);

    /// <summary>Pixel-wise difference (<c>a - b</c>).</summary>
    public static Field operator -(Field a, Field b) => Zip(a, b, static (x, y) => x - y);

    /// <summary>Subtracts a constant from every pixel.</summary>
    public static Field operator -(Field a, double b) => Map(a, x => x - b);

    /// <summary>A constant minus every pixel.</summary>
    public static Field operator -(double a, Field b) => Map(b, x => a - x);

    /// <summary>Pixel-wise product (<c>a * b</c>).</summary>
    public static Field operator *(Field a, Field b) => Zip(a, b, static (x, y) => x * y);

    /// <summary>Scales every pixel.</summary>
    public static Field operator *(Field a, double b) => Map(a, x => x * b);

    /// <summary>Scales every pixel.</summary>
    public static Field operator *(double a, Field b) => Map(b, x => a * x);

    /// <summary>Pixel-wise quotient (<c>a / b</c>).</summary>
    public static Field operator /(Field a, Field b) => Zip(a, b, static (x, y) => x / y);

    /// <summary>Divides every pixel by a constant.</summary>
    public static Field operator /(Field a, double b) => Map(a, x => x / b);

    /// <summary>A constant divided by every pixel.</summary>
    public static Field operator /(double a, Field b) => Map(b, x => a / x);

    /// <summary>Negation (<c>-a</c>).</summary>
    public static Field operator -(Field a) => Map(a, static x => -x);

    /// <summary>Broadcasts a per-plane value over its pixels and adds (<c>a + b[:, :, None, None]</c>). The generator rejects this form (LD0007).</summary>
    public static Field operator +(Field a, Plane b) => ZipPlane(a, b, static (x, y) => x + y);

    /// <summary>Broadcasts a per-plane value over its pixels and subtracts. The generator rejects this form (LD0007).</summary>
    public static Field operator -(Field a, Plane b) => ZipPlane(a, b, static (x, y) => x - y);

    /// <summary>Broadcasts a per-plane value over its pixels and multiplies. The generator rejects this form (LD0007).</summary>
    public static Field operator *(Field a, Plane b) => ZipPlane(a, b, static (x, y) => x * y);

    /// <summary>Broadcasts a per-plane value over its pixels and divides. The generator rejects this form (LD0007).</summary>
    public static Field operator /(Field a, Plane b) => ZipPlane(a, b, static (x, y) => x / y);
}

/// <summary>A differentiable input: raw scores before the sigmoid (PyTorch: the <c>input</c> of <c>binary_cross_entropy_with_logits</c>).</summary>
public sealed class Logits : Field
{
    /// <summary>Wraps <paramref name="data"/> (contiguous NCHW) without copying.</summary>
    /// <param name="shape">The batch shape.</param>
    /// <param name="data">The values.</param>
    public Logits(LossShape shape, double[] data)
        : base(shape, data)
    {
    }
}

/// <summary>A target input (ground-truth mask, possibly soft). It is never differentiated; work that depends only on targets is done once.</summary>
public sealed class Target : Field
{
    /// <summary>Wraps <paramref name="data"/> (contiguous NCHW) without copying.</summary>
    /// <param name="shape">The batch shape.</param>
    /// <param name="data">The values.</param>
    public Target(LossShape shape, double[] data)
        : base(shape, data)
    {
    }
}
