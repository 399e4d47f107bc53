using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;

namespace LossDsl.Generators.Tests;

/// <summary>The pipeline's models are value-equatable, so unrelated edits leave the expensive steps cached.</summary>
public class IncrementalTests
{
    private const string Other = """
        namespace Elsewhere;

        // A comment.
        public static class Unrelated
        {
            public static int Twice(int x) => 2 * x;
        }
        """;

    private static IEnumerable<IncrementalStepRunReason> Reasons(GeneratorDriver driver, string step) =>
        driver.GetRunResult().Results.Single().TrackedSteps[step].SelectMany(s => s.Outputs).Select(o => o.Reason);

    private static (GeneratorDriver Driver, Compilation Compilation) First(params string[] sources)
    {
        var compilation = GeneratorHarness.Compilation(sources);
        var driver = GeneratorHarness.Driver().RunGenerators(compilation);
        Assert.All(Reasons(driver, TrackingNames.Schedule), r => Assert.Equal(IncrementalStepRunReason.New, r));
        return (driver, compilation);
    }

    private static void AssertCached(GeneratorDriver driver)
    {
        foreach (var step in new[] { TrackingNames.Spec, TrackingNames.Schedule, TrackingNames.Diagnostics })
        {
            var reasons = Reasons(driver, step).ToList();
            Assert.NotEmpty(reasons);
            Assert.All(reasons, r => Assert.True(r is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"{step}: {r}"));
        }

        Assert.All(driver.GetRunResult().Results.Single().TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs),
            o => Assert.True(o.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, "output: " + o.Reason));
    }

    [Fact]
    public void AddingAnUnrelatedFile_LeavesEveryStepCached()
    {
        var (driver, compilation) = First(Sources.StructureLoss);
        driver = driver.RunGenerators(compilation.AddSyntaxTrees(CSharpSyntaxTree.ParseText(Other, GeneratorHarness.ParseOptions, "Other.cs")));
        AssertCached(driver);
    }

    [Fact]
    public void EditingACommentInAnotherFile_LeavesEveryStepCached()
    {
        var (driver, compilation) = First(Sources.StructureLossAttributes, Other);
        var old = compilation.SyntaxTrees.Single(t => t.FilePath == "Other1.cs");
        var edited = CSharpSyntaxTree.ParseText(Other.Replace("// A comment.", "// An edited comment.", System.StringComparison.Ordinal), GeneratorHarness.ParseOptions, "Other1.cs");
        driver = driver.RunGenerators(compilation.ReplaceSyntaxTree(old, edited));
        AssertCached(driver);
    }

    [Fact]
    public void EditingCodeInAnotherFile_LeavesEveryStepCached()
    {
        var (driver, compilation) = First(Sources.StructureLoss, Other);
        var old = compilation.SyntaxTrees.Single(t => t.FilePath == "Other1.cs");
        var edited = CSharpSyntaxTree.ParseText(Other.Replace("2 * x", "3 * x", System.StringComparison.Ordinal), GeneratorHarness.ParseOptions, "Other1.cs");
        driver = driver.RunGenerators(compilation.ReplaceSyntaxTree(old, edited));
        AssertCached(driver);
    }

    [Theory]
    [InlineData(Sources.StructureLoss)]
    [InlineData(Sources.StructureLossAttributes)]
    public void EditingTheLossClassDocComment_LeavesSpecAndScheduleCached(string source)
    {
        // The doc comment is not part of the model: rewording it (on the same line, so the class does not move) must not
        // re-run the Spec and Schedule steps or the emitters.
        const string from = "boundary-weighted BCE plus weighted IoU.";
        Assert.Contains(from, source, System.StringComparison.Ordinal);
        var (driver, compilation) = First(source);
        var old = compilation.SyntaxTrees.Single();
        var edited = CSharpSyntaxTree.ParseText(source.Replace(from, "a reworded summary of what it computes, longer than before.", System.StringComparison.Ordinal), GeneratorHarness.ParseOptions, old.FilePath);
        driver = driver.RunGenerators(compilation.ReplaceSyntaxTree(old, edited));
        Assert.NotEmpty(Reasons(driver, TrackingNames.Parse));
        AssertCached(driver);
    }

    [Theory]
    [InlineData(Sources.StructureLoss, "5 * Abs", "6 * Abs")]
    [InlineData(Sources.StructureLossAttributes, "Gain = 5", "Gain = 4")]
    public void ChangingAConstant_RerunsSpecAndSchedule(string source, string from, string to)
    {
        var (driver, compilation) = First(source);
        var old = compilation.SyntaxTrees.Single();
        var edited = CSharpSyntaxTree.ParseText(source.Replace(from, to, System.StringComparison.Ordinal), GeneratorHarness.ParseOptions, old.FilePath);
        driver = driver.RunGenerators(compilation.ReplaceSyntaxTree(old, edited));
        Assert.Equal(new[] { IncrementalStepRunReason.Modified }, Reasons(driver, TrackingNames.Spec));
        Assert.Equal(new[] { IncrementalStepRunReason.Modified }, Reasons(driver, TrackingNames.Schedule));
        Assert.All(Reasons(driver, TrackingNames.Diagnostics), r => Assert.Equal(IncrementalStepRunReason.Unchanged, r));
    }

    [Fact]
    public void MovingALossWithLD0020_ReportsAtTheNewPlace_WithTheScheduleCached()
    {
        // LD0020 needs the schedule (kernel parameter counts) and the class location; the location lives beside the spec,
        // so moving the class re-reports the warning at its new line without re-running the schedule or the emitters.
        const string source = """
            using LossDsl;
            using static LossDsl.Dsl;

            [Loss] public static partial class Wide
            {
                [Term] static Plane T(Logits a, Logits b, Logits c, Logits d, Logits e, Target mask) => Mean(BceWithLogits(a + b + c + d + e, mask));
            }
            """;
        var compilation = GeneratorHarness.CompilationWithBackends(source);
        var driver = GeneratorHarness.Driver().RunGenerators(compilation);
        var before = Assert.Single(driver.GetRunResult().Results.Single().Diagnostics);
        Assert.Equal("LD0020", before.Id);
        Assert.Equal(3, before.Location.GetLineSpan().StartLinePosition.Line);

        var old = compilation.SyntaxTrees.Single();
        var moved = CSharpSyntaxTree.ParseText(source.Replace("[Loss]", "// Two lines\n// further down.\n[Loss]", System.StringComparison.Ordinal), GeneratorHarness.ParseOptions, old.FilePath);
        driver = driver.RunGenerators(compilation.ReplaceSyntaxTree(old, moved));
        var after = Assert.Single(driver.GetRunResult().Results.Single().Diagnostics);
        Assert.Equal("LD0020", after.Id);
        Assert.Equal(5, after.Location.GetLineSpan().StartLinePosition.Line);
        foreach (var step in new[] { TrackingNames.Spec, TrackingNames.Schedule })
        {
            Assert.All(Reasons(driver, step), r => Assert.True(r is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"{step}: {r}"));
        }
    }
}
