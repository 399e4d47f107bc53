using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;

namespace LossDsl.Tests;

/// <summary>One tests/golden/cases/*.json file (see tests/golden/README.md), made by PyTorch.</summary>
public sealed record GoldenCase(
    string Name, string Form, int N, int C, int H, int W, int Kernel, double Gain, double Smooth,
    double[] Pred, double[] Mask, double Loss, double[] Grad, double[] PlaneLoss)
{
    private static readonly JsonSerializerOptions Options = new() { PropertyNameCaseInsensitive = true };

    /// <summary>The folder the test project copies the golden cases into.</summary>
    public static string Directory => Path.Combine(AppContext.BaseDirectory, "golden");

    public LossShape Shape => new(N, C, H, W);

    /// <summary>Whether the case uses the parameters of the ready-made structure losses (k = 31, gain 5, smooth 1).</summary>
    public bool MatchesReadyMadeLosses => Kernel == 31 && Gain == 5 && Smooth == 1;

    public static IEnumerable<string> Files() =>
        System.IO.Directory.Exists(Directory)
            ? System.IO.Directory.EnumerateFiles(Directory, "*.json").Select(Path.GetFileName).OfType<string>().OrderBy(f => f, StringComparer.Ordinal)
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
