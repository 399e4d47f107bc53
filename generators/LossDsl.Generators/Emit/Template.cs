using System;
using System.Text;

namespace LossDsl.Generators.Emit;

/// <summary>Fills the op table's templates (<c>{0}</c>, <c>{k}</c>, <c>{M}</c>, …; see <see cref="Model.Spelling"/>).</summary>
internal static class Template
{
    /// <summary>Replaces every <c>{name}</c> with <paramref name="resolve"/>'s text for it; an unknown name is a bug in the table.</summary>
    public static string Fill(string template, Func<string, string?> resolve)
    {
        var sb = new StringBuilder(template.Length + 16);
        int i = 0;
        while (i < template.Length)
        {
            char c = template[i];
            if (c == '{')
            {
                int end = template.IndexOf('}', i + 1);
                string name = template.Substring(i + 1, end - i - 1);
                sb.Append(resolve(name) ?? throw new InvalidOperationException($"Template '{template}' has no value for '{{{name}}}'."));
                i = end + 1;
            }
            else
            {
                sb.Append(c);
                i++;
            }
        }

        return sb.ToString();
    }

    /// <summary>Fills argument (<c>{0}</c>, <c>{1}</c>) and parameter (<c>{k}</c>, <c>{k2}</c>) placeholders only.</summary>
    public static string Fill(string template, string[] args, string k, string k2) => Fill(template, name => Argument(name, args, k, k2));

    /// <summary>The text of an argument or parameter placeholder, or null when <paramref name="name"/> is neither.</summary>
    public static string? Argument(string name, string[] args, string k, string k2) => name switch
    {
        "k" => k,
        "k2" => k2,
        _ when name.Length == 1 && char.IsDigit(name[0]) => args[name[0] - '0'],
        _ => null,
    };
}
