using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;

namespace LossDsl.Tests;

/// <summary>One tests/golden/cases/*.json file (see tests/golden/README.md).</summary>
public sealed record GoldenCase(
    string Name, string Form, int N, int C, int H, int W, int Kernel, double Gain, double Smooth,
    double[] Pred, double[] Mask, double Loss, double[] Grad, double[] PlaneLoss)
{
    static readonly JsonSerializerOptions Options = new() { PropertyNameCaseInsensitive = true };

    /// <summary>The folder the test project copies the golden cases into.</summary>
    public static string Directory => Path.Combine(AppContext.BaseDirectory, "golden");

    public static IEnumerable<string> Files() =>
        System.IO.Directory.Exists(Directory)
            ? System.IO.Directory.EnumerateFiles(Directory, "*.json").OrderBy(f => f, StringComparer.Ordinal)
            : Enumerable.Empty<string>();

    public static GoldenCase Load(string fileName)
    {
        string path = Path.Combine(Directory, fileName);
        var c = JsonSerializer.Deserialize<GoldenCase>(File.ReadAllText(path), Options)
            ?? throw new InvalidDataException($"{path}: empty");
        int len = c.N * c.C * c.H * c.W;
        if (c.Pred.Length != len || c.Mask.Length != len || c.Grad.Length != len || c.PlaneLoss.Length != c.N * c.C)
        {
            throw new InvalidDataException($"{path}: array lengths do not match {c.N}x{c.C}x{c.H}x{c.W}");
        }
        return c;
    }

    public override string ToString() => Name;
}
