using System;
using System.Globalization;
using System.Linq;
using System.Text;
using LossDsl.Generators.Model;
using Microsoft.CodeAnalysis;
using Xunit;

namespace LossDsl.Generators.Tests;

/// <summary>
/// The failure classes fuzzing found (issue 10), one minimal reproduction each. Every case runs the generator on a thread
/// with a small stack and asserts: no generator exception, every LD diagnostic inside the user's file, and — when no LD
/// error is reported — generated code that compiles without warnings.
/// </summary>
public class HostileInputTests
{
    private const string Usings = "using System;\nusing LossDsl;\nusing static LossDsl.Dsl;\n\n";

    private const string Term = "[Term] static Plane T(Logits pred, Target mask) => Mean(BceWithLogits(pred, mask));";

    /// <summary>Runs the generator (with or without the backend runtimes) and checks the invariants every input must hold.</summary>
    internal static GeneratorOutput Check(string source, bool withBackends = false)
    {
        var run = GeneratorHarness.RunOnSmallStack(withBackends ? GeneratorHarness.CompilationWithBackends(source) : GeneratorHarness.Compilation(source));
        Assert.True(run.Exception is null, $"generator threw:\n{run.Exception}\n{source}");
        Assert.All(run.GeneratorDiagnostics, d =>
        {
            Assert.StartsWith("LD", d.Id, StringComparison.Ordinal);
            Assert.True(d.Location.IsInSource || d.Location.Kind == LocationKind.ExternalFile, $"{d} has no location");
            Assert.Equal(GeneratorHarness.DefaultPath, d.Location.GetLineSpan().Path);
        });
        if (!run.GeneratorDiagnostics.Any(d => d.Severity == DiagnosticSeverity.Error))
        {
            var problems = run.CompilationProblems.Where(d => !d.Id.StartsWith("LD", StringComparison.Ordinal)).ToList();
            Assert.True(problems.Count == 0, "generated code does not compile:\n" + string.Join("\n", problems) + "\n" + source);
        }

        return run;
    }

    private static GeneratorOutput Clean(string source, bool withBackends = false)
    {
        var run = Check(Usings + source, withBackends);
        Assert.True(run.GeneratorDiagnostics.IsEmpty, "unexpected diagnostics: " + string.Join("\n", run.GeneratorDiagnostics));
        Assert.NotEmpty(run.Sources);
        return run;
    }

    /// <summary>The text a diagnostic points at (its location is a file location, detached from the tree).</summary>
    private static string At(Diagnostic d, string source) => (Usings + source).Substring(d.Location.SourceSpan.Start, d.Location.SourceSpan.Length);

    private static Diagnostic Reports(string id, string source, string messagePart, bool withBackends = false)
    {
        var run = Check(Usings + source, withBackends);
        var all = string.Join("\n", run.GeneratorDiagnostics);
        var d = run.GeneratorDiagnostics.FirstOrDefault(x => x.Id == id);
        Assert.True(d is not null, $"expected {id}, got:\n{all}");
        Assert.Contains(messagePart, d!.GetMessage(CultureInfo.InvariantCulture), StringComparison.Ordinal);
        return d;
    }

    // ---------------------------------------------------------------- generator exceptions

    [Fact]
    public void HintNames_UniqueUnderCaseFolding()
    {
        var run = Clean($"namespace Probe {{ [Loss] public static partial class Cased {{ {Term} }} [Loss] public static partial class CASED {{ {Term} }} }}");
        Assert.Equal(4, run.Sources.Length);
        Assert.Equal(4, run.Sources.Select(s => s.Hint).Distinct(StringComparer.OrdinalIgnoreCase).Count());
    }

    [Fact]
    public void HintNames_FreeOfVerbatimPrefix()
    {
        var run = Clean($"namespace @if.@event {{ public static partial class @struct {{ [Loss] public static partial class @class {{ [Term] static Plane @double(Logits @in, Target mask) => Mean(BceWithLogits(@in, mask)); }} }} }}", withBackends: true);
        Assert.Contains(run.Sources, s => s.Hint == "if.event.struct.class.Cpu.g.cs");
        Assert.All(run.Sources, s => Assert.DoesNotContain("@", s.Hint, StringComparison.Ordinal));
    }

    [Fact]
    public void ContainingTypes_AreStructured()
    {
        var spec = GeneratorHarness.ParseSpec(Usings + "namespace @if.@event { public partial record struct @struct { public static partial class Mid { [Loss] public static partial class @class { " + Term + " } } } }", "if.event.struct+Mid+class");
        Assert.Equal("@if.@event", spec.Type.Namespace);
        Assert.Equal("@class", spec.Type.Identifier);
        Assert.Equal(
            new[] { new Model.ContainingType("@struct", "record struct", Model.ImmutableEquatableArray<string>.Empty), new Model.ContainingType("Mid", "class", new[] { "static" }.ToEquatable()) },
            spec.Type.ContainingTypes);
        Assert.Equal("if.event.struct.Mid.class", spec.Type.FullName);
        Assert.Equal("@if.@event.@struct.Mid.@class", spec.Type.CodeName);
        Clean("namespace @if.@event { public partial record struct @struct { public static partial class Mid { [Loss] public static partial class @class { " + Term + " } } } }", withBackends: true);
    }

    [Fact]
    public void LongSum_DoesNotOverflowTheStack()
    {
        var sum = string.Join(" + ", Enumerable.Range(0, 2000).Select(i => i % 2 == 0 ? "pred" : "mask"));
        Clean($"[Loss] public static partial class L {{ [Term] static Plane T(Logits pred, Target mask) => Mean({sum}); }}");
    }

    [Fact]
    public void DeepHelperChain_IsDiagnosedNotOverflowed()
    {
        var sb = new StringBuilder("[Loss] public static partial class L {\n static Field H0(Field x) => x;\n");
        for (int i = 1; i <= 300; i++)
        {
            sb.Append(CultureInfo.InvariantCulture, $" static Field H{i}(Field x) => H{i - 1}(x) + 1;\n");
        }

        sb.Append(" [Term] static Plane T(Logits pred, Target mask) => Mean(H300(pred));\n}");
        Reports("LD0022", sb.ToString(), "more than 32 helpers deep");
    }

    [Fact]
    public void ShallowHelperChain_IsAccepted()
    {
        var sb = new StringBuilder("[Loss] public static partial class L {\n static Field H0(Field x) => x;\n");
        for (int i = 1; i <= 30; i++)
        {
            sb.Append(CultureInfo.InvariantCulture, $" static Field H{i}(Field x) => H{i - 1}(x) + H{i - 1}(x) * 0.5;\n");
        }

        sb.Append(" [Term] static Plane T(Logits pred, Target mask) => Mean(H30(pred));\n}");
        Clean(sb.ToString());
    }

    [Fact]
    public void DeeplyNestedCalls_AreDiagnosedNotOverflowed()
    {
        var e = "pred";
        for (int i = 0; i < 300; i++)
        {
            e = $"Sigmoid({e})";
        }

        Reports("LD0022", $"[Loss] public static partial class L {{ [Term] static Plane T(Logits pred, Target mask) => Mean({e}); }}", "more than 64");
    }

    // ---------------------------------------------------------------- LD-clean declarations whose output did not compile

    [Theory]
    [InlineData("Module")]
    [InlineData("Cpu")]
    [InlineData("Reference")]
    [InlineData("TorchOps")]
    [InlineData("Ilgpu")]
    public void MemberNamedLikeAGeneratedMember_IsDiagnosed(string name)
    {
        Reports("LD0021", $"[Loss] public static partial class L {{ {Term} public static int {name} => 1; }}", $"'{name}'", withBackends: true);
        Reports("LD0021", $"public static partial class Outer {{ [Loss] public static partial class {name} {{ {Term} }} }}", $"'{name}'", withBackends: true);
    }

    [Fact]
    public void BackendWithoutRuntime_EmitsNoFile()
    {
        var run = Check(Usings + $"[Loss(Backends = Backends.Ilgpu | Backends.TorchSharp)] public static partial class L {{ {Term} }}");
        Assert.Equal(new[] { "LD0017", "LD0017" }, run.GeneratorDiagnostics.Select(d => d.Id));
        Assert.Equal(new[] { "L.Cpu.g.cs", "L.Reference.g.cs" }, run.Sources.Select(s => s.Hint).OrderBy(h => h, StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("(Backends)(-1)", "Backends")]
    [InlineData("(Backends)8", "Backends")]
    public void UndefinedBackends_AreDiagnosed(string value, string part) =>
        Reports("LD0016", $"[Loss(Backends = {value})] public static partial class L {{ {Term} }}", part);

    [Fact]
    public void UndefinedReduction_IsDiagnosed() =>
        Reports("LD0016", $"[Loss(Reduction = (Reduction)7)] public static partial class L {{ {Term} }}", "Reduction = 7");

    [Theory]
    [InlineData("[Loss, BoundaryWeight(Gain = double.NaN), WeightedBce] public static partial class L;", "LD0016", "Gain")]
    [InlineData("[Loss, BoundaryWeight(Gain = double.PositiveInfinity), WeightedBce] public static partial class L;", "LD0016", "Gain")]
    [InlineData("[Loss, WeightedIoU(Smooth = double.NaN)] public static partial class L;", "LD0016", "Smooth")]
    [InlineData("[Loss, SoftDice(Smooth = double.PositiveInfinity)] public static partial class L;", "LD0016", "Smooth")]
    [InlineData("[Loss, Focal(Gamma = 1e308)] public static partial class L;", "LD0016", "Gamma")]
    [InlineData("[Loss, Focal(Gamma = double.NaN)] public static partial class L;", "LD0016", "Gamma")]
    [InlineData("[Loss, Tversky(Alpha = double.NaN)] public static partial class L;", "LD0016", "Alpha")]
    [InlineData("[Loss] public static partial class L { [Term] static Plane T(Logits pred, Target mask) => Mean(Clamp(pred, -3, double.MaxValue)); }", "LD0005", "float")]
    [InlineData("[Loss] public static partial class L { [Term] static Plane T(Logits pred, Target mask) => Mean(Clamp(pred, 1, -1)); }", "LD0005", "lower bound")]
    [InlineData("[Loss] public static partial class L { [Term] static Plane T(Logits pred, Target mask) => Mean(Clamp(pred, double.NaN, 1)); }", "LD0005", "NaN")]
    [InlineData("[Loss] public static partial class L { [Term] static Plane T(Logits pred, Target mask) => Mean(Pow(Sigmoid(pred), double.NaN)); }", "LD0005", "NaN")]
    [InlineData("[Loss] public static partial class L { [Term] static Plane T(Logits pred, Target mask) => Mean(pred * (0.0 / 0.0)); }", "LD0005", "NaN")]
    [InlineData("[Loss] public static partial class L { [Term] static Plane T(Logits pred, Target mask) => Mean(pred * double.PositiveInfinity); }", "LD0005", "∞")]
    [InlineData("[Loss] public static partial class L { [Term] static Plane T(Logits pred, Target mask) => Mean(pred * 1e300 * 1e10); }", "LD0005", "float")]
    [InlineData("[Loss] public static partial class L { [Term(Weight = 1e39)] static Plane T(Logits pred, Target mask) => Mean(pred); }", "LD0016", "Weight")]
    [InlineData("[Loss, WeightedBce(Weight = double.NaN)] public static partial class L;", "LD0016", "Weight")]
    public void NonFiniteConstants_AreDiagnosed(string source, string id, string part) => Reports(id, source, part);

    [Fact]
    public void TinyConstants_Compile() =>
        Clean("[Loss] public static partial class L { [Term] static Plane T(Logits pred, Target mask) => Mean(pred * 1e-300 + Clamp(pred, -1e-320, 1e-310)); }", withBackends: true);

    [Fact]
    public void BatchTermBesidePlaneTerm_Compiles()
    {
        Clean("[Loss] public static partial class L { [Term] static Batch G(Logits pred, Target mask) => BatchMean(pred); [Term] static Plane T(Logits pred, Target mask) => Mean(pred); }", withBackends: true);
        Clean("[Loss] public static partial class L { [Term] static Plane T(Logits pred, Target mask) => Mean(pred) * BatchMean(pred); }", withBackends: true);
    }

    [Fact]
    public void NestedStencils_Compile() =>
        Clean("[Loss] public static partial class L { [Term] static Plane T(Logits pred, Target mask) => Mean(AvgPool(AvgPool(mask, 3), 3) * pred); }", withBackends: true);

    [Fact]
    public void TermNamedLikeAReferenceLocal_Compiles() =>
        Clean("[Loss] public static partial class L { [Term] static Plane shape(Logits pred, Target mask) => Mean(pred); [Term] static Plane loss(Logits pred, Target mask) => Sum(pred); }", withBackends: true);

    [Fact]
    public void LowerCaseClassName_AddsNoWarning()
    {
        // The user's declaration gets CS8981 itself; the generated parts must not repeat it.
        var run = GeneratorHarness.RunOnSmallStack(GeneratorHarness.CompilationWithBackends(Usings + $"[Loss] public static partial class lower {{ {Term} }}"));
        Assert.Null(run.Exception);
        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Equal(4, run.Sources.Length);
        var warning = Assert.Single(run.CompilationProblems);
        Assert.Equal("CS8981", warning.Id);
        Assert.Equal(GeneratorHarness.DefaultPath, warning.Location.GetLineSpan().Path);
    }

    [Theory]
    [InlineData("namespace LossDsl.Logits { }")]
    [InlineData("namespace LossDsl { public sealed class LossShape { } }")]
    [InlineData("namespace LossDsl.Prelude.X { }")]
    public void ProjectNameHidingTheRuntime_IsDiagnosed(string hider) =>
        Reports("LD0021", $"{hider}\n[Loss] public static partial class L {{ {Term} }}", "hides the LossDsl runtime's");

    [Fact]
    public void ProjectNamespaceMergingWithTheRuntime_Compiles() =>
        Clean($"namespace LossDsl.Cpu {{ public static class Mine {{ }} }}\n[Loss] public static partial class L {{ {Term} }}");

    [Fact]
    public void FileLocalLoss_IsDiagnosed() =>
        Reports("LD0024", $"[Loss] file static partial class L {{ {Term} }}", "file-local");

    [Fact]
    public void TermNamedLikeAnAttributeTerm_Compiles() =>
        Clean("[Loss, WeightedBce] public static partial class L { [Term] static Plane WeightedBce(Logits pred, Target mask) => Mean(BceWithLogits(pred, mask)); }", withBackends: true);

    [Fact]
    public void TermOverloads_Compile() =>
        Clean("[Loss] public static partial class L { [Term] static Plane T(Logits pred, Target mask) => Mean(BceWithLogits(pred, mask)); [Term] static Plane T(Logits pred) => Mean(pred); }", withBackends: true);

    [Theory]
    [InlineData("ref")]
    [InlineData("in")]
    [InlineData("out")]
    [InlineData("ref readonly")]
    public void RefParameterOnTerm_IsDiagnosed(string kind) =>
        Reports("LD0013", $"[Loss] public static partial class L {{ [Term] static Plane T({kind} Logits pred, Target mask) {{ {(kind == "out" ? "pred = null!; " : string.Empty)}return Mean(BceWithLogits(pred, mask)); }} }}", $"'{kind}'");

    // ---------------------------------------------------------------- diagnostics outside the user's file

    [Fact]
    public void TooLargeKernelAttribute_IsReportedAtTheAttribute()
    {
        const string source = "[Loss, BoundaryWeight(Kernel = 5001), WeightedBce] public static partial class L;";
        var d = Reports("LD0008", source, "up to 4095");
        Assert.Equal("BoundaryWeight(Kernel = 5001)", At(d, source));
    }

    [Fact]
    public void DiagnosticInsideThePrelude_IsReportedAtTheUsersCall()
    {
        const string even = "[Loss] public static partial class L { [Term] static Plane T(Logits pred, Target mask) => WeightedMean(BceWithLogits(pred, mask), Prelude.BoundaryWeight(mask, 4, 1)); }";
        Assert.Equal("Prelude.BoundaryWeight(mask, 4, 1)", At(Reports("LD0008", even, "is 4"), even));
        const string overLogits = "[Loss] public static partial class L { [Term] static Plane T(Logits pred, Target mask) => Mean(Prelude.BoundaryWeight((Target)(Field)pred, 3, 1)); }";
        Assert.Equal("Prelude.BoundaryWeight((Target)(Field)pred, 3, 1)", At(Reports("LD0014", overLogits, "AvgPool"), overLogits));
    }

    // ---------------------------------------------------------------- accepted silently or miscompiled

    [Fact]
    public void UserOperatorOnFieldSubtype_IsInlinedNotTakenForArithmetic()
    {
        const string source = """
            public sealed class Odd : Field
            {
                public Odd(LossShape shape, double[] data) : base(shape, data) { }
                public static Field operator -(Odd a, Field b) => a * b;
            }
            [Loss] public static partial class L
            {
                [Term] static Plane T(Logits pred, Target mask) => Sum((Odd)(Field)pred - mask);
            }
            """;
        Clean(source);
        var spec = GeneratorHarness.ParseSpec(Usings + source, "L");
        Assert.Contains(spec.Graph.Nodes, n => n.Op == Model.Op.Mul);
        Assert.DoesNotContain(spec.Graph.Nodes, n => n.Op == Model.Op.Sub);
    }

    [Fact]
    public void SourceDefinedDslClass_IsNotTheVocabulary()
    {
        // A source class named LossDsl.Dsl shadows the referenced one (CS0436); its methods are user helpers, inlined by their bodies.
        const string source = """
            using LossDsl;
            namespace LossDsl { public static class Dsl { public static Field Sigmoid(Field x) => x; } }
            [Loss] public static partial class L { [Term] static Plane T(Logits pred, Target mask) => Prelude.WeightedBce(pred, mask, Dsl.Sigmoid(mask) + 1); }
            """;
        var spec = GeneratorHarness.ParseSpec(source, "L");
        Assert.DoesNotContain(spec.Graph.Nodes, n => n.Op == Model.Op.Sigmoid);
    }

    [Theory]
    [InlineData("public static class Plain { [Term] static Plane [|T|](Logits pred, Target mask) => Mean(pred); }", "is not a [Loss] class")]
    [InlineData("[Loss] public static partial class L { " + Term + " public static class Inner { [Term] static Plane [|U|](Logits pred, Target mask) => Mean(pred); } }", "is not a [Loss] class")]
    [InlineData("[Loss] public static partial class L { [Term] static Plane T(Logits pred, Target mask) { [Term] static Plane [|Local|](Logits p) => Mean(p); return Local(pred); } }", "local function")]
    public void TermOutsideALossClass_IsDiagnosed(string source, string part) => Reports("LD0023", source.Replace("[|", string.Empty).Replace("|]", string.Empty), part);

    // ---------------------------------------------------------------- rejected wrongly

    [Fact]
    public void StaticHelperInAGenericClass_IsAccepted() =>
        Clean("public static class Helpers<TAny> { public static Field Blur(Field m) => AvgPool(m, 3); } [Loss] public static partial class L { [Term] static Plane T(Logits pred, Target mask) => WeightedMean(BceWithLogits(pred, mask), 1 + Helpers<int>.Blur(mask)); }");

    [Fact]
    public void PartialMethodHelper_IsAccepted()
    {
        const string a = "using LossDsl;\nusing static LossDsl.Dsl;\n[Loss] public static partial class L { private static partial Field W(Target m); [Term] static Plane T(Logits pred, Target mask) => WeightedMean(BceWithLogits(pred, mask), W(mask)); }";
        const string b = "using LossDsl;\nusing static LossDsl.Dsl;\npublic static partial class L { private static partial Field W(Target m) => 1 + AvgPool(m, 3); }";
        var run = GeneratorHarness.RunOnSmallStack(GeneratorHarness.Compilation(a, b));
        Assert.Null(run.Exception);
        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Empty(run.CompilationProblems);
    }
}
