using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;

namespace LossDsl.Generators.Tests;

/// <summary>The generator never crashes on partial or malformed input, and its output does not depend on the culture or the run.</summary>
public class RobustnessTests
{
    private const string Malformed1 = """
        using LossDsl;
        using static LossDsl.Dsl;

        [Loss(Reduction = Reduction.Sum)]
        public static partial class Broken
        {
            static Field F(Field x) => G(x) * 2;
            static Field G(Field x) => F(x);

            [Term(Weight = -0.5)]
            static Plane T(Logits pred, Target mask, int k)
            {
                for (var i = 0; i < k; i++) { }
                var w = AvgPool(Sigmoid(pred), k) * Sum(mask);
                return Mean(Clamp(pred, -3.5, w) + F(mask)) ? Mean(pred) : Sum(pred);
            }
        }
        """;

    private const string Malformed2 = """
        using LossDsl;

        namespace A.B;

        public static partial class Outer<T>
        {
            [Loss(Backends = Backends.TorchSharp | Backends.Ilgpu), BoundaryWeight(Kernel = -4, Gain = double.NaN), WeightedBce(Weight = double.PositiveInfinity), WeightedIoU(Smooth = -1), Focal(Alpha = 2), Tversky, SoftDice]
            public static partial class L;
        }
        """;

    public static TheoryData<string> Declarations => new() { Sources.StructureLoss, Sources.StructureLossAttributes, Malformed1, Malformed2 };

    [Theory]
    [MemberData(nameof(Declarations))]
    public void EveryTokenPrefix_NeverCrashes(string source)
    {
        var ends = CSharpSyntaxTree.ParseText(source).GetRoot().DescendantTokens().Select(t => t.FullSpan.End).Distinct().ToList();
        Assert.True(ends.Count > 20);
        foreach (int end in ends)
        {
            var run = GeneratorHarness.RunGeneratorOnly(source[..end]);
            Assert.True(run.Exception is null, $"generator threw on the prefix of {end} characters:\n{source[..end]}\n{run.Exception}");
        }
    }

    [Fact]
    public void MalformedDeclarations_ReportButDoNotCrash()
    {
        foreach (var source in new[] { Malformed1, Malformed2 })
        {
            var run = GeneratorHarness.Run(source);
            Assert.Null(run.Exception);
            Assert.NotEmpty(run.GeneratorDiagnostics);
            Assert.All(run.GeneratorDiagnostics, d => Assert.StartsWith("LD", d.Id, System.StringComparison.Ordinal));
            Assert.Empty(run.Sources);
        }
    }

    /// <summary>A culture that formats numbers unlike C#: a non-ASCII minus sign and a decimal comma.</summary>
    internal static CultureInfo OddCulture()
    {
        var c = (CultureInfo)CultureInfo.InvariantCulture.Clone();
        c.NumberFormat.NegativeSign = "\u2212";
        c.NumberFormat.NumberDecimalSeparator = ",";
        c.NumberFormat.NumberGroupSeparator = ".";
        c.NumberFormat.PositiveInfinitySymbol = "∞";
        return c;
    }

    private const string Numbers = """
        using LossDsl;
        using static LossDsl.Dsl;

        namespace LossDsl.Tests;

        [Loss(Reduction = Reduction.Sum)]
        public static partial class Numbers
        {
            [Term(Weight = 0.25)]
            static Plane T(Logits pred, Target mask) => Mean(Clamp(pred, -3.5, 2.5) * -1.25 + Pow(Sigmoid(pred), 1.5) - 1e-7 * mask);

            [Term(Weight = -0.5)]
            static Plane U(Logits pred, Target mask) => Sum(Min(pred, -0.75) * MinPool(mask, 3)) / -1000000.5;
        }

        [Loss, BoundaryWeight(Kernel = 31, Gain = 0.5), WeightedBce(Weight = 0.125), WeightedIoU(Smooth = 0.001), Focal(Alpha = 0.75, Gamma = 1.5)]
        public static partial class Attrs;

        [Loss, WeightedIoU(Smooth = -1.5)]
        public static partial class Bad;
        """;

    [Fact]
    public void OutputIsCultureInvariant()
    {
        var invariant = GeneratorHarness.RunUnder(CultureInfo.InvariantCulture, Numbers);
        var odd = GeneratorHarness.RunUnder(OddCulture(), Numbers);
        Assert.Null(odd.Exception);
        Assert.Equal(4, invariant.Sources.Length);
        Assert.Equal(invariant.Sources.Select(s => s.Hint), odd.Sources.Select(s => s.Hint));
        for (int i = 0; i < invariant.Sources.Length; i++)
        {
            Assert.True(invariant.Sources[i].Text == odd.Sources[i].Text, LineDiff.Unified(invariant.Sources[i].Text, odd.Sources[i].Text, "invariant", "odd culture"));
        }

        Assert.DoesNotContain(odd.Sources, s => s.Text.Contains('\u2212', System.StringComparison.Ordinal));
        Assert.DoesNotContain(odd.CompilationProblems, d => !d.Id.StartsWith("LD", System.StringComparison.Ordinal));
        Assert.Equal(invariant.GeneratorDiagnostics.Select(d => d.ToString()), odd.GeneratorDiagnostics.Select(d => d.ToString()));
        Assert.Contains(odd.GeneratorDiagnostics, d => d.Id == "LD0016" && d.GetMessage(CultureInfo.InvariantCulture).Contains("Smooth = -1.5", System.StringComparison.Ordinal));
    }

    [Fact]
    public void OutputIsDeterministic()
    {
        var a = GeneratorHarness.Run(Sources.StructureLoss, Sources.StructureLossAttributes, Sources.SoftDice, Sources.Focal);
        var b = GeneratorHarness.Run(Sources.StructureLoss, Sources.StructureLossAttributes, Sources.SoftDice, Sources.Focal);
        Assert.Equal(8, a.Sources.Length);
        Assert.Equal(a.Sources.Select(s => s.Hint), b.Sources.Select(s => s.Hint));
        for (int i = 0; i < a.Sources.Length; i++)
        {
            Assert.True(a.Sources[i].Text == b.Sources[i].Text, a.Sources[i].Hint + "\n" + LineDiff.Unified(a.Sources[i].Text, b.Sources[i].Text, "first run", "second run"));
        }

        Assert.Empty(a.CompilationProblems);
    }
}
