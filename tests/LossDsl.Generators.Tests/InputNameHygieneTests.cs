using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using Xunit;

namespace LossDsl.Generators.Tests;

/// <summary>
/// The emitters are hygienic: an input may be named like any identifier the generated code uses for itself (locals,
/// parameters, fields, nested types, kernel parameters of any backend). For each name, a loss with that name as its
/// <c>Logits</c> input and one with it as its <c>Target</c> input are generated with the TorchSharp and ILGPU runtimes
/// referenced; either the name is reserved (LD0019, the only diagnostic, nothing generated) or all four files are
/// generated and compile with no error and no warning.
/// </summary>
public class InputNameHygieneTests
{
    /// <summary>Names the emitters use themselves (as found by probing every backend), plus plain ones users pick.</summary>
    public static readonly string[] Names =
    {
        // TorchSharp emitter.
        "Cpu", "TorchFunction", "TorchOps", "TorchCall", "Module", "call", "computed", "ctx", "device", "dtype", "forceTensorOps",
        "grads", "in0", "in1", "c0", "scope", "seed", "seeds", "stencils", "tensorOps", "value", "vars", "wantGrad", "saved", "result",
        "gradOutput", "apply", "planes", "loss", "total",
        // ILGPU emitter.
        "Ilgpu", "acc0", "batch", "dummy", "first", "gradMask", "groupsPerPlane", "h", "has0", "hasSeeds", "hw", "i", "index", "j",
        "length", "planeValues", "r0", "start", "stream", "stride", "sums", "v0", "v1", "s0", "sv0", "f0", "bv0", "w", "work",
        "accelerator", "grad0", "Forward", "Backward", "Plane", "Finish", "Run", "Compute",
        // CPU emitter and the reference.
        "Float32", "Float64", "Reference", "PlaneLosses", "Execute", "Ensure", "k", "p", "p0", "g0", "o", "src", "dst", "tmp",
        "colSums", "chunk", "chunks", "end", "a", "reuseTargetWork", "Accumulators", "ChunkPixels", "T", "L",
        // Plain names.
        "x", "y", "t", "n", "c", "target", "logits", "gt", "label", "weight", "input", "output", "grad", "pred", "mask",
        "var", "nameof", "dynamic", "_",
        // Reserved (the public entry points' own parameters).
        "shape", "planeLosses", "planeSeeds", "lossOut", "__x",
    };

    /// <summary>Names that must be reported as LD0019; every other name must generate code that compiles cleanly.</summary>
    private static readonly HashSet<string> Reserved = new(System.StringComparer.Ordinal) { "shape", "planeSeeds", "lossOut", "__x", "planeLosses" };

    public static IEnumerable<object[]> Batches() => Names.Chunk(12).Select(chunk => new object[] { chunk });

    [Theory]
    [MemberData(nameof(Batches))]
    public void EveryInputNameIsReservedOrCompiles(string[] names)
    {
        // One compilation per batch: each name gives two losses (the name as Logits, the name as Target). The other input is
        // called like no emitter identifier ("other"), so that only the name under test can clash.
        var sources = new List<string>();
        for (int k = 0; k < names.Length; k++)
        {
            string n = "@" + names[k];
            sources.Add($$"""
                using LossDsl;
                using static LossDsl.Dsl;

                namespace Hygiene.N{{k}};

                [Loss]
                public static partial class L
                {
                    [Term] static Plane A(Logits {{n}}, Target other) => WeightedMean(BceWithLogits({{n}}, other), 1 + Abs(AvgPool(other, 3) - other));

                    [Term] static Plane B(Logits {{n}}, Target other) => 1 - ((Sum(Sigmoid({{n}}) * other) + 1) / (Sum(Sigmoid({{n}}) + other) + 1));
                }

                [Loss(Reduction = Reduction.None)]
                public static partial class LT
                {
                    [Term] static Plane A(Logits other, Target {{n}}) => WeightedMean(BceWithLogits(other, {{n}}), 1 + (5 * Abs(AvgPool({{n}}, 3) - {{n}})));

                    [Term] static Batch B(Logits other, Target {{n}}) => BatchMean(Square(Sigmoid(other) - MaxPool({{n}}, 3)));
                }
                """);
        }

        var run = GeneratorHarness.RunWithBackends(sources.ToArray());
        Assert.Null(run.Exception);
        var problems = new List<string>();
        foreach (var d in run.GeneratorDiagnostics)
        {
            string message = d.GetMessage(System.Globalization.CultureInfo.InvariantCulture);
            if (d.Id != "LD0019" || !names.Any(n => Reserved.Contains(n) && message.StartsWith($"The input name '{n}' ", System.StringComparison.Ordinal)))
            {
                problems.Add("generator: " + d);
            }
        }

        // Each reserved name is reported in both losses (once per term that declares it).
        foreach (string n in names.Where(Reserved.Contains))
        {
            int reported = run.GeneratorDiagnostics.Count(d => d.Id == "LD0019" && d.GetMessage(System.Globalization.CultureInfo.InvariantCulture).StartsWith($"The input name '{n}' ", System.StringComparison.Ordinal));
            if (reported != 4)
            {
                problems.Add($"'{n}': LD0019 reported {reported} times, expected 4 (two terms in each of two losses)");
            }
        }

        for (int k = 0; k < names.Length; k++)
        {
            foreach (var (cls, role) in new[] { ("L", "Logits"), ("LT", "Target") })
            {
                var files = run.Sources.Where(s => s.Hint.StartsWith($"Hygiene.N{k}.{cls}.", System.StringComparison.Ordinal)).Select(s => s.Hint).OrderBy(h => h, System.StringComparer.Ordinal).ToList();
                var expected = Reserved.Contains(names[k])
                    ? new List<string>()
                    : new[] { "Cpu", "Ilgpu", "Reference", "TorchSharp" }.Select(b => $"Hygiene.N{k}.{cls}.{b}.g.cs").ToList();
                if (!files.SequenceEqual(expected))
                {
                    problems.Add($"{role} '{names[k]}': generated [{string.Join(", ", files)}], expected [{string.Join(", ", expected)}]");
                }
            }
        }

        // Every warning or error of the compilation with the generated code, attributed to the input name of its file.
        foreach (var d in run.CompilationProblems)
        {
            string path = d.Location.GetLineSpan().Path;
            problems.Add($"{NameOf(path, names)}: {d}");
        }

        Assert.True(problems.Count == 0, string.Join("\n", problems.Take(40)));
    }

    [Fact]
    public void NestedLossClassQualifiesItsNestedTypes()
    {
        // The qualified references name the containing types too: a loss nested in a class (no namespace), inputs named like
        // the generated nested types.
        const string source = """
            using LossDsl;
            using static LossDsl.Dsl;

            public static partial class Outer
            {
                internal static partial class Inner
                {
                    [Loss]
                    public static partial class L
                    {
                        [Term] static Plane A(Logits Cpu, Target Reference) => WeightedMean(BceWithLogits(Cpu, Reference), 1 + Abs(AvgPool(Reference, 3) - Reference));
                    }
                }
            }
            """;
        var run = GeneratorHarness.RunWithBackends(source);
        Assert.Null(run.Exception);
        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Equal(4, run.Sources.Length);
        Assert.Contains("global::Outer.Inner.L.Cpu.Float32.Run(", run.Source(".Cpu.g.cs"), System.StringComparison.Ordinal);
        Assert.Empty(run.CompilationProblems);
    }

    private static string NameOf(string path, string[] names)
    {
        int at = path.IndexOf("Hygiene.N", System.StringComparison.Ordinal);
        if (at < 0)
        {
            return path;
        }

        string digits = new(path.Skip(at + "Hygiene.N".Length).TakeWhile(char.IsDigit).ToArray());
        return int.TryParse(digits, out int k) && k < names.Length ? $"input '{names[k]}'" : path;
    }
}
