using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;
using Xunit;

namespace LossDsl.Generators.Tests;

/// <summary>
/// One test per diagnostic: the id, the message (or its key part), the location (marked <c>[|…|]</c> in the source) and
/// that nothing else is reported and no source is generated for the class.
/// </summary>
public class DiagnosticTests
{
    private const string Usings = "using System;\nusing LossDsl;\nusing static LossDsl.Dsl;\n\n";

    /// <summary>Strips the single <c>[|…|]</c> marker and returns the clean source and the marked span.</summary>
    private static (string Source, TextSpan Span) Marked(string source)
    {
        int start = source.IndexOf("[|", System.StringComparison.Ordinal);
        int end = source.IndexOf("|]", System.StringComparison.Ordinal);
        Assert.True(start >= 0 && end > start, "the test source needs one [|...|] marker");
        var clean = source.Remove(end, 2).Remove(start, 2);
        return (clean, TextSpan.FromBounds(start, end - 2));
    }

    /// <summary>Runs the generator and asserts exactly one diagnostic with <paramref name="id"/> at the marked span.</summary>
    private static Diagnostic Single(string id, string markedSource, string messagePart, bool expectSources = false) =>
        Single(id, markedSource, messagePart, expectSources, withBackends: false).Diagnostic;

    private static (Diagnostic Diagnostic, GeneratorOutput Run) Single(string id, string markedSource, string messagePart, bool expectSources, bool withBackends)
    {
        var (source, span) = Marked(Usings + markedSource);
        var run = withBackends ? GeneratorHarness.RunWithBackends(source) : GeneratorHarness.Run(source);
        Assert.Null(run.Exception);
        var all = string.Join("\n", run.GeneratorDiagnostics.Select(d => d.ToString()));
        var d = Assert.Single(run.GeneratorDiagnostics);
        Assert.True(d.Id == id, $"expected {id}, got:\n{all}");
        Assert.Contains(messagePart, d.GetMessage(System.Globalization.CultureInfo.InvariantCulture), System.StringComparison.Ordinal);
        // The generator carries locations as values (file, span, line span), so they come back as file locations.
        Assert.NotEqual(LocationKind.None, d.Location.Kind);
        Assert.Equal(GeneratorHarness.DefaultPath, d.Location.GetLineSpan().Path);
        var text = SourceText.From(source);
        Assert.True(
            span == d.Location.SourceSpan,
            $"expected the span '{text.ToString(span)}' at {text.Lines.GetLinePosition(span.Start)}, got '{text.ToString(d.Location.SourceSpan)}' at {d.Location.GetLineSpan().StartLinePosition}");
        Assert.Equal(text.Lines.GetLinePosition(span.Start), d.Location.GetLineSpan().StartLinePosition);
        if (expectSources)
        {
            Assert.NotEmpty(run.Sources);
        }
        else
        {
            Assert.Empty(run.Sources);
        }

        Assert.Equal(id is "LD0017" or "LD0020" ? DiagnosticSeverity.Warning : DiagnosticSeverity.Error, d.Severity);
        return (d, run);
    }

    private const string Term = "[Term] static Plane T(Logits pred, Target mask) => Mean(BceWithLogits(pred, mask));";

    [Fact]
    public void LD0001_NotPartial() =>
        Single("LD0001", $"[Loss] public static class [|L|] {{ {Term} }}", "'L' must be declared 'partial'");

    [Fact]
    public void LD0001_ContainingTypeNotPartial() =>
        Single("LD0001", $"public static class [|Outer|] {{ [Loss] public static partial class L {{ {Term} }} }}", "'Outer' must be declared 'partial'");

    [Fact]
    public void LD0002_NotStatic() =>
        Single("LD0002", $"[Loss] public partial class [|L|] {{ {Term} }}", "'L' must be declared 'static'");

    [Fact]
    public void LD0003_NoTerms() =>
        Single("LD0003", "[Loss] public static partial class [|L|] { static Plane NotATerm(Logits pred) => Mean(pred); }", "declares no terms");

    [Theory]
    [InlineData("[|for (int i = 0; i < 2; i++) { }|]", "for (int i = 0; i < 2; i++) { }")]
    [InlineData("[|if (pred is null) { return Mean(pred); }|]", "if (pred is null) { return Mean(pred); }")]
    [InlineData("[|while (true) { }|]", "while (true) { }")]
    public void LD0004_UnsupportedStatement(string statement, string shown) =>
        Single("LD0004", $"[Loss] public static partial class L {{ [Term] static Plane T(Logits pred, Target mask) {{ {statement} return Mean(BceWithLogits(pred, mask)); }} }}", $"'{shown}' is not supported");

    [Fact]
    public void LD0005_Conditional() =>
        Single("LD0005", "[Loss] public static partial class L { static bool Flag => true; [Term] static Plane T(Logits pred, Target mask) => Mean([|Flag ? pred : mask|]); }", "'Flag ? pred : mask' is not supported");

    [Fact]
    public void LD0005_Lambda() =>
        Single("LD0005", "[Loss] public static partial class L { [Term] static Plane T(Logits pred, Target mask) { var f = [|(Field x) => x * 2|]; return Mean(BceWithLogits(pred, mask)); } }", "'(Field x) => x * 2' is not supported");

    [Fact]
    public void LD0005_NonConstField() =>
        Single("LD0005", "[Loss] public static partial class L { static readonly double Gain = 2; [Term] static Plane T(Logits pred, Target mask) => Mean([|Gain|] * BceWithLogits(pred, mask)); }", "the field 'Gain' is not a compile-time constant");

    [Fact]
    public void LD0006_MethodFromMetadata() =>
        Single("LD0006", "[Loss] public static partial class L { [Term] static Plane T(Logits pred, Target mask) => Mean(BceWithLogits(pred, mask)) * [|Math.Sin(2.0)|]; }", "The call to 'Math.Sin(double)' cannot be used");

    [Fact]
    public void LD0006_ExternMethod() =>
        Single("LD0006", "[Loss] public static partial class L { [System.Runtime.InteropServices.DllImport(\"x\")] static extern double Ext(); [Term] static Plane T(Logits pred, Target mask) => Mean(BceWithLogits(pred, mask)) * [|Ext()|]; }", "The call to 'L.Ext()' cannot be used");

    [Fact]
    public void LD0006_GenericHelper() =>
        Single("LD0006", "public interface IW { static abstract Field W(Target m); } public sealed class Ones : IW { public static Field W(Target m) => m * 0 + 1; } [Loss] public static partial class L { static Field W<TW>(Target m) where TW : IW => TW.W(m); [Term] static Plane T(Logits pred, Target mask) => WeightedMean(BceWithLogits(pred, mask), [|W<Ones>(mask)|]); }", "The call to 'L.W<Ones>(Target)' cannot be used");

    [Fact]
    public void LD0007_FieldTimesPlane() =>
        Single("LD0007", "[Loss] public static partial class L { [Term] static Plane T(Logits pred, Target mask) => Mean([|pred * Sum(mask)|]); }", "'pred * Sum(mask)' combines a per-pixel Field with a Plane value");

    [Fact]
    public void LD0007_ChannelReductionTimesPlane() =>
        Single("LD0007", "[Loss] public static partial class L { [Term] static Plane T(Logits pred, Target mask) => Mean([|LogSumExp(pred) * Sum(mask)|]); }", "'LogSumExp(pred) * Sum(mask)' combines a per-pixel Field with a Plane value");

    [Fact]
    public void LD0007_TermReturnsField() =>
        Single("LD0007", "[Loss] public static partial class L { [Term] static Field [|T|](Logits pred, Target mask) => BceWithLogits(pred, mask); }", "The term 'T' returns a per-pixel Field");

    [Fact]
    public void LD0008_EvenKernel() =>
        Single("LD0008", "[Loss] public static partial class L { [Term] static Plane T(Logits pred, Target mask) => WeightedMean(BceWithLogits(pred, mask), 1 + [|AvgPool(mask, 30)|]); }", "The window of 'AvgPool' is 30");

    [Fact]
    public void LD0008_EvenKernelAttribute() =>
        Single("LD0008", "[Loss, [|BoundaryWeight(Kernel = 30)|], WeightedBce] public static partial class L;", "The window of 'BoundaryWeight' is 30");

    [Fact]
    public void LD0008_EvenWindowFromIntegerDivision() =>
        Single("LD0008", "[Loss] public static partial class L { static Field W(Target m, int k) => 1 + [|AvgPool(m, k / 4)|]; [Term] static Plane T(Logits pred, Target mask) => WeightedMean(BceWithLogits(pred, mask), W(mask, 66)); }", "The window of 'AvgPool' is 16");

    [Fact]
    public void LD0009_WindowFromAStaticReadonlyField() =>
        Single("LD0009", "[Loss] public static partial class L { static readonly int K = 31; [Term] static Plane T(Logits pred, Target mask) => WeightedMean(BceWithLogits(pred, mask), 1 + [|AvgPool(mask, K)|]); }", "The window of 'AvgPool' must be a compile-time constant");

    [Fact]
    public void LD0009_WindowFromARuntimeValue() =>
        Single("LD0009", "[Loss] public static partial class L { [Term] static Plane T(Logits pred, Target mask) => WeightedMean(BceWithLogits(pred, mask), 1 + [|MaxPool(mask, System.Environment.ProcessorCount)|]); }", "The window of 'MaxPool' must be a compile-time constant");

    [Fact]
    public void LD0010_NoDifferentiableInput() =>
        Single("LD0010", "[Loss] public static partial class L { [Term] static Plane T(Logits pred, Target mask) => Mean(BceWithLogits(pred, mask)); [Term] static Plane [|U|](Logits pred, Target mask) => Mean(mask); }", "The term 'U' does not depend on any Logits input");

    [Fact]
    public void LD0011_ConflictingRoles() =>
        Single("LD0011", "[Loss] public static partial class L { [Term] static Plane T(Logits pred, Target mask) => Mean(BceWithLogits(pred, mask)); [Term] static Plane U(Logits [|mask|], Target pred) => Mean(BceWithLogits(mask, pred)); }", "The input 'mask' is a Logits in 'U' but a Target in an earlier term");

    [Fact]
    public void LD0012_DirectRecursion() =>
        Single("LD0012", "[Loss] public static partial class L { static Field F(Field x) => [|F(x)|]; [Term] static Plane T(Logits pred, Target mask) => Mean(F(pred)); }", "'F' calls itself");

    [Fact]
    public void LD0012_MutualRecursion() =>
        Single("LD0012", "[Loss] public static partial class L { static Field F(Field x) => G(x); static Field G(Field x) => 1 + [|F(x)|]; [Term] static Plane T(Logits pred, Target mask) => Mean(F(pred)); }", "'F' calls itself");

    [Fact]
    public void LD0013_NonStaticTerm() =>
        Single("LD0013", "[Loss] public static partial class L { [Term] Plane [|T|](Logits pred, Target mask) => Mean(BceWithLogits(pred, mask)); }", "The term 'T' must be static");

    [Fact]
    public void LD0013_IntParameter() =>
        Single("LD0013", "[Loss] public static partial class L { [Term] static Plane T(Logits pred, Target mask, int [|k|]) => Mean(BceWithLogits(pred, mask)); }", "The term 'T' has parameter 'k' of type 'int'; term parameters must be Logits or Target");

    [Fact]
    public void LD0013_ReturnsDouble() =>
        Single("LD0013", "[Loss] public static partial class L { [Term] static double [|T|](Logits pred, Target mask) => 1.0; }", "The term 'T' must return LossDsl.Plane or LossDsl.Batch, not 'double'");

    [Fact]
    public void LD0014_StencilOverLogits() =>
        Single("LD0014", "[Loss] public static partial class L { [Term] static Plane T(Logits pred, Target mask) => Mean([|AvgPool(Sigmoid(pred), 3)|]); }", "'AvgPool' is applied to an expression that depends on a Logits input");

    [Fact]
    public void LD0014_EveryStencilOverLogitsOfATerm()
    {
        // Both stencils of the term depend on the prediction: both are reported, each at its own call, not only the first.
        const string source = Usings + "[Loss] public static partial class L { [Term] static Plane T(Logits pred, Target mask) => Mean(AvgPool(Sigmoid(pred), 3) * mask) + Mean(MaxPool(pred, 5)); }";
        var run = GeneratorHarness.Run(source);
        Assert.Null(run.Exception);
        Assert.Empty(run.Sources);
        var spans = run.GeneratorDiagnostics.Select(d => (d.Id, Text: source.Substring(d.Location.SourceSpan.Start, d.Location.SourceSpan.Length))).ToList();
        Assert.Equal(new[] { ("LD0014", "AvgPool(Sigmoid(pred), 3)"), ("LD0014", "MaxPool(pred, 5)") }, spans);
    }

    [Fact]
    public void LD0014_HelperInlinedTwice_ReportedOnce() =>
        Single("LD0014", "[Loss] public static partial class L { static Field Blur(Field x) => [|AvgPool(x, 3)|]; [Term] static Plane T(Logits pred, Target mask) => Mean(Blur(pred)) + Mean(Blur(Sigmoid(pred))); }", "'AvgPool' is applied");

    [Theory]
    [InlineData("var b = BatchMean(BceWithLogits(pred, mask)); var x = [|Softplus(b)|]; return Mean(BceWithLogits(pred, mask));")]
    [InlineData("var b = BatchMean(BceWithLogits(pred, mask)); return Mean(BceWithLogits(pred, mask)) * [|Softplus(b)|];")]
    public void LD0007_DslFunctionWithoutAnOverloadForTheRank(string body) =>
        Single("LD0007", $"[Loss] public static partial class L {{ [Term] static Plane T(Logits pred, Target mask) {{ {body} }} }}",
            "argument 1 of Softplus ('b') is a Batch (whole-batch value), but Softplus takes a Field (per-pixel value) there");

    [Fact]
    public void LD0007_WhereMixingAPixelValueWithAReducedOne() =>
        Single("LD0007", "[Loss] public static partial class L { [Term] static Plane T(Logits pred, Target mask) => Mean([|Where(Greater(pred, 0), Mean(pred), pred)|]); }",
            "Where takes its arguments at one rank (constants aside), but gets a Field (per-pixel value), a Plane (per-plane value), a Field (per-pixel value)");

    [Fact]
    public void LD0015_GenericClass() =>
        Single("LD0015", $"[Loss] public static partial class [|L|]<T> {{ {Term.Replace("T(", "Term(")} }}", "The loss class 'L' is generic");

    [Fact]
    public void LD0015_NestedInGenericClass() =>
        Single("LD0015", $"public static partial class Outer<T> {{ [Loss] public static partial class [|L|] {{ {Term} }} }}", "The loss class 'L' is generic or nested in a generic type");

    [Fact]
    public void LD0016_BadAttributeArgument() =>
        Single("LD0016", "[Loss, BoundaryWeight(Kernel = 31, Gain = 5), WeightedBce, [|WeightedIoU(Smooth = -1)|]] public static partial class L;", "WeightedIoU: Smooth = -1 is out of range");

    [Fact]
    public void LD0017_BackendWithoutRuntime()
    {
        var d = Single("LD0017", $"[Loss(Backends = Backends.TorchSharp)] public static partial class [|L|] {{ {Term} }}", "asks for the TorchSharp backend, but the project does not reference LossDsl.TorchSharp", expectSources: true);
    }

    [Theory]
    [InlineData("Target [|shape|]", "shape")]
    [InlineData("Target [|planeLosses|]", "planeLosses")]
    [InlineData("Target [|__mask|]", "__mask")]
    [InlineData("Target [|predGrad|]", "predGrad")]
    [InlineData("Target [|preds|]", "preds")]
    public void LD0019_ReservedInputName(string parameter, string name) =>
        Single("LD0019", $"[Loss] public static partial class L {{ [Term] static Plane T(Logits pred, {parameter}) => Mean(BceWithLogits(pred, pred)); }}", $"The input name '{name}' is used by the generated API");

    [Fact]
    public void LD0019_ListNameAfterFinalS() =>
        Single("LD0019", "[Loss] public static partial class L { [Term] static Plane T(Logits logits, Target [|logitsList|]) => Mean(BceWithLogits(logits, logitsList)); }", "'logitsList'");

    [Fact]
    public void LD0020_TooManyIlgpuKernelParameters()
    {
        // Six inputs, five of them Logits: the ILGPU backward kernel takes the six inputs, the plane table, five gradients,
        // the gradient mask, hw and the plane count: 15 parameters (the kernel program passes only what a kernel reads).
        const string source = """
            [Loss] public static partial class [|L|]
            {
                [Term] static Plane T(Logits a, Logits b, Logits c, Logits d, Logits e, Target mask) => Mean(BceWithLogits(a + b + c + d + e, mask));
            }
            """;
        var (_, run) = Single("LD0020", source, "The ILGPU backend of 'L' needs 15 kernel parameters; ILGPU accepts at most 14", expectSources: true, withBackends: true);

        // Only the ILGPU file is missing; the others are generated and compile without warnings.
        Assert.Equal(new[] { "L.Cpu.g.cs", "L.Reference.g.cs", "L.TorchSharp.g.cs" }, run.Sources.Select(s => s.Hint).OrderBy(h => h, System.StringComparer.Ordinal));
        Assert.Empty(run.CompilationProblems);
    }

    [Fact]
    public void LD0020_NotReportedAtTheLimit()
    {
        // Four inputs, three of them Logits: the backward kernel takes 4 + 2 + 3 + 3 = 12 parameters.
        var run = GeneratorHarness.RunWithBackends(Usings + "[Loss] public static partial class L { [Term] static Plane T(Logits a, Logits b, Logits c, Target mask) => Mean(BceWithLogits(a + b + c, mask)); }");
        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Contains(run.Sources, s => s.Hint == "L.Ilgpu.g.cs");
        Assert.Empty(run.CompilationProblems);
    }
}
