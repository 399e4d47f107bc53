using System;
using System.Globalization;
using System.Text;

namespace LossDsl.Generators.Emit;

/// <summary>An indented text writer with LF line endings.</summary>
internal sealed class CodeWriter
{
    private readonly StringBuilder _sb = new();
    private int _indent;

    public CodeWriter Line(string text = "")
    {
        if (text.Length > 0)
        {
            _sb.Append(' ', _indent * 4);
            _sb.Append(text);
        }

        _sb.Append('\n');
        return this;
    }

    public CodeWriter Open(string header)
    {
        Line(header);
        Line("{");
        _indent++;
        return this;
    }

    public CodeWriter Close(string suffix = "")
    {
        _indent--;
        Line("}" + suffix);
        return this;
    }

    public void Doc(string tag, string text)
    {
        Line($"/// <{tag}>");
        foreach (var l in text.Split('\n'))
        {
            Line("/// " + l);
        }

        Line($"/// </{tag}>");
    }

    public override string ToString() => _sb.ToString();

    /// <summary>A double literal, culture-invariant and round-trippable.</summary>
    public static string Num(double v)
    {
        if (double.IsPositiveInfinity(v))
        {
            return "double.PositiveInfinity";
        }

        if (double.IsNegativeInfinity(v))
        {
            return "double.NegativeInfinity";
        }

        if (double.IsNaN(v))
        {
            return "double.NaN";
        }

        var s = v.ToString("R", CultureInfo.InvariantCulture);
        return s.IndexOfAny(new[] { '.', 'E', 'e' }) >= 0 ? s : s + ".0";
    }

    public static string Int(int v) => v.ToString(CultureInfo.InvariantCulture);
}

/// <summary>Text inside generated XML doc comments.</summary>
internal static class Xml
{
    /// <summary>Escapes the characters XML requires (<c>&amp;</c>, <c>&lt;</c>, <c>&gt;</c>); quotes stay readable.</summary>
    public static string Escape(string text) => text.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;");
}
