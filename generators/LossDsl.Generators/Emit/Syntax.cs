using System;
using LossDsl.Generators.Model;

namespace LossDsl.Generators.Emit;

/// <summary>
/// A backend's syntax table: how it spells the op table's operations (a spelling column and the values of the class
/// placeholders) and its literals. The emitters print every pointwise op through one of these.
/// </summary>
internal sealed class Syntax
{
    private readonly Func<OpInfo, Spelling?> _column;
    private readonly Func<string, string?> _classes;
    private readonly Func<double, string> _parameter;

    private Syntax(string backend, Func<OpInfo, Spelling?> column, Func<string, string?> classes, Func<double, string> parameter)
    {
        Backend = backend;
        _column = column;
        _classes = classes;
        _parameter = parameter;
    }

    /// <summary>The backend's name, for messages.</summary>
    public string Backend { get; }

    /// <summary>Scalar C# in <paramref name="type"/> (<c>float</c> or <c>double</c>): CPU epilogues and scalar tails.</summary>
    public static Syntax CpuScalar(string type) => new(
        "CPU scalar " + type,
        row => row.Scalar,
        name => name switch
        {
            "M" => type == "float" ? "global::System.MathF" : "global::System.Math",
            "S" => "global::LossDsl.Scalar",
            _ => null,
        },
        v => Literals.Of(v, type));

    /// <summary>SIMD C# over <paramref name="vector"/> (e.g. <c>global::System.Runtime.Intrinsics.Vector256</c>) of <paramref name="type"/>.</summary>
    public static Syntax CpuVector(string type, string vector) => new(
        "CPU vector " + type,
        row => row.Vector,
        name => name switch
        {
            "V" => vector,
            "VM" => "global::LossDsl.Cpu.VectorMath",
            _ => null,
        },
        v => Literals.Of(v, type));

    /// <summary>TorchSharp tensor expressions; scalar parameters are C# doubles.</summary>
    public static Syntax Tensor { get; } = new(
        "TorchSharp",
        row => row.Tensor,
        name => name switch
        {
            "TM" => "global::LossDsl.TorchSharp.TensorMath",
            "F" => "global::TorchSharp.torch.nn.functional",
            _ => null,
        },
        v => Literals.Of(v, "double"));

    /// <summary>ILGPU device code in <paramref name="type"/>: the device column where an op has one, else the scalar spelling over <c>DeviceMath</c>.</summary>
    public static Syntax Device(string type) => new(
        "ILGPU " + type,
        row => row.Device ?? row.Scalar,
        name => name is "M" or "S" ? "global::LossDsl.Ilgpu.DeviceMath" : null,
        v => Literals.Of(v, type));

    /// <summary>True when this backend can spell <paramref name="op"/>.</summary>
    public bool Spells(Op op) => _column(OpTable.Get(op)) is not null;

    /// <summary>
    /// The expression of <paramref name="op"/> over argument texts. <paramref name="tensorArg"/> gives the text of an
    /// argument that must be a tensor (<c>{T0}</c>); other backends never ask for it.
    /// </summary>
    public string Print(Op op, string[] args, double k, double k2, Func<int, string>? tensorArg = null)
    {
        var row = OpTable.Get(op);
        var spelling = _column(row) ?? throw new InvalidOperationException($"The {Backend} backend has no spelling for {op} (add it to the op table).");
        string pk = _parameter(k), pk2 = _parameter(k2);
        return Template.Fill(spelling.Template, name =>
            Template.Argument(name, args, pk, pk2)
            ?? _classes(name)
            ?? (name.Length == 2 && name[0] == 'T' && char.IsDigit(name[1]) ? (tensorArg ?? (i => args[i]))(name[1] - '0') : null));
    }
}

/// <summary>C# literals of the element types, culture-invariant and round-trippable.</summary>
internal static class Literals
{
    /// <summary>A literal of <paramref name="type"/> (<c>float</c> or <c>double</c>) for <paramref name="v"/>.</summary>
    public static string Of(double v, string type) => type == "float" ? Float(v) : CodeWriter.Num(v);

    /// <summary>A float literal; values beyond float's range become ±∞ as a float conversion would make them.</summary>
    public static string Float(double v)
    {
        if (double.IsNaN(v))
        {
            return "float.NaN";
        }

        float f = (float)v;
        if (float.IsPositiveInfinity(f))
        {
            return "float.PositiveInfinity";
        }

        if (float.IsNegativeInfinity(f))
        {
            return "float.NegativeInfinity";
        }

        return CodeWriter.Num(v) + "f";
    }
}
