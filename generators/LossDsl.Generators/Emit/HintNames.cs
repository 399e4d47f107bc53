using System;
using System.Collections.Generic;
using System.Text;

namespace LossDsl.Generators.Emit;

/// <summary>
/// Hint names of the generated files. Roslyn compares hint names ignoring case, so two loss classes whose full names
/// differ only in case (<c>Probe.Cased</c>, <c>Probe.CASED</c>) would ask for the same file. Each such name gets a suffix
/// that spells its case pattern (one bit per letter, upper = 1, in hex) after a <c>-</c>, which no C# name contains;
/// a name without a case-folded twin keeps its plain prefix.
/// </summary>
internal static class HintNames
{
    /// <summary>The prefix of <paramref name="fullName"/>'s files, given the full names of every loss class in the compilation.</summary>
    public static string Prefix(string fullName, IEnumerable<string> allFullNames)
    {
        foreach (var other in allFullNames)
        {
            if (!string.Equals(other, fullName, StringComparison.Ordinal) && string.Equals(other, fullName, StringComparison.OrdinalIgnoreCase))
            {
                return fullName + "-" + CasePattern(fullName);
            }
        }

        return fullName;
    }

    /// <summary>The upper-case letters of <paramref name="name"/> as a bit string (first letter first), in hex digits.</summary>
    internal static string CasePattern(string name)
    {
        var sb = new StringBuilder();
        int bits = 0, count = 0;
        foreach (char c in name)
        {
            if (!char.IsLetter(c))
            {
                continue;
            }

            bits = (bits << 1) | (char.IsUpper(c) ? 1 : 0);
            if (++count == 4)
            {
                sb.Append("0123456789abcdef"[bits]);
                bits = count = 0;
            }
        }

        if (count > 0)
        {
            sb.Append("0123456789abcdef"[bits << (4 - count)]);
        }

        return sb.ToString();
    }
}
