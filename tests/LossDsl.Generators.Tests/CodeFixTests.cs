using System.Collections.Immutable;
using System.Globalization;
using System.Linq;
using System.Threading.Tasks;
using LossDsl.CodeFixes;
using LossDsl.Generators.Diagnostics;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Testing;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Testing;
using Xunit;

namespace LossDsl.Generators.Tests;

/// <summary>
/// The code fixes of LD0001 (make the class partial) and LD0002 (make it static), run by Roslyn's code-fix test framework
/// over the generator's own diagnostics: the generator runs on the input, its diagnostic is fixed, and the fixed source
/// must compile with the generated code and without any diagnostic left.
/// </summary>
public class CodeFixTests
{
    private const string Usings = "using LossDsl;\nusing static LossDsl.Dsl;\n\n";

    private const string Term = "[Term] static Plane T(Logits pred, Target mask) => Mean(BceWithLogits(pred, mask));";

    /// <summary>
    /// Hands the generator's diagnostics to the code-fix framework. The generator reports at detached locations (file path
    /// and span, so its pipeline stays cacheable); the framework applies fixes to the document of a diagnostic's syntax
    /// tree, so this test-only analyzer runs <see cref="LossGenerator"/> on the compilation and re-reports each of its
    /// diagnostics, with the same id and message, at the same span of the matching tree.
    /// </summary>
    [DiagnosticAnalyzer(LanguageNames.CSharp)]
    private sealed class GeneratorDiagnostics : DiagnosticAnalyzer
    {
        private static readonly ImmutableDictionary<string, DiagnosticDescriptor> Mirrors = DiagnosticDescriptorsById.All.ToImmutableDictionary(
            d => d.Id,
            d => new DiagnosticDescriptor(d.Id, d.Title, "{0}", d.Category, d.DefaultSeverity, isEnabledByDefault: true));

        public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = Mirrors.Values.ToImmutableArray();

        public override void Initialize(AnalysisContext context)
        {
            context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
            context.EnableConcurrentExecution();
            // A semantic-model action reports local diagnostics (code fixes apply only to those): the generator runs over
            // the whole compilation, and the diagnostics that fall in this model's tree are reported.
            context.RegisterSemanticModelAction(c =>
            {
                var compilation = c.SemanticModel.Compilation;
                var tree = c.SemanticModel.SyntaxTree;
                var driver = CSharpGeneratorDriver.Create(new[] { new LossGenerator().AsSourceGenerator() }, parseOptions: (CSharpParseOptions)tree.Options).RunGenerators(compilation, c.CancellationToken);
                foreach (var d in driver.GetRunResult().Diagnostics.Where(d => d.Location.GetLineSpan().Path == tree.FilePath))
                {
                    c.ReportDiagnostic(Diagnostic.Create(Mirrors[d.Id], Location.Create(tree, d.Location.SourceSpan), d.GetMessage(CultureInfo.InvariantCulture)));
                }
            });
        }
    }

    /// <summary>The fix over the generator's diagnostics; references are this process's framework and LossDsl.dll (nothing downloaded).</summary>
    private sealed class Test : CSharpCodeFixTest<GeneratorDiagnostics, LossClassModifierCodeFix, DefaultVerifier>
    {
        public Test(string source, string fixedSource)
        {
            TestCode = Usings + source;
            FixedCode = Usings + fixedSource;
            ReferenceAssemblies = new ReferenceAssemblies("net10.0");
            TestState.AdditionalReferences.AddRange(GeneratorHarness.References);
            SolutionTransforms.Add((solution, projectId) =>
            {
                var project = solution.GetProject(projectId)!;
                var options = ((CSharpCompilationOptions)project.CompilationOptions!).WithAllowUnsafe(true).WithNullableContextOptions(NullableContextOptions.Enable);
                return solution.WithProjectCompilationOptions(projectId, options);
            });
        }

        protected override ParseOptions CreateParseOptions() => ((CSharpParseOptions)base.CreateParseOptions()).WithLanguageVersion(LanguageVersion.Latest);
    }

    /// <summary>The fixed source compiles together with what the generator makes of it, without a warning.</summary>
    private static void AssertGeneratesCleanly(string fixedSource)
    {
        var run = GeneratorHarness.Run(Usings + fixedSource);
        Assert.Empty(run.GeneratorDiagnostics);
        Assert.NotEmpty(run.Sources);
        Assert.Empty(run.CompilationProblems);
    }

    private static async Task Fix(string source, string fixedSource, int? fixAllIterations = null)
    {
        await new Test(source, fixedSource) { NumberOfFixAllIterations = fixAllIterations }.RunAsync();
        AssertGeneratesCleanly(fixedSource);
    }

    [Fact]
    public void FixableIds_AreTheGeneratorsIds()
    {
        Assert.Equal(LossClassModifierCodeFix.NotPartialId, DiagnosticDescriptors.NotPartial.Id);
        Assert.Equal(LossClassModifierCodeFix.NotStaticId, DiagnosticDescriptors.NotStatic.Id);
    }

    [Fact]
    public Task LD0001_AddsPartial() =>
        Fix($"[Loss] public static class {{|LD0001:L|}} {{ {Term} }}", $"[Loss] public static partial class L {{ {Term} }}");

    [Fact]
    public Task LD0001_OnTheContainingClass_AddsPartialThere() =>
        Fix(
            $"public static class {{|LD0001:Outer|}}\n{{\n    [Loss] public static partial class L {{ {Term} }}\n}}",
            $"public static partial class Outer\n{{\n    [Loss] public static partial class L {{ {Term} }}\n}}");

    [Fact]
    public Task LD0002_AddsStatic_BeforePartial() =>
        Fix($"[Loss] public partial class {{|LD0002:L|}} {{ {Term} }}", $"[Loss] public static partial class L {{ {Term} }}");

    [Fact]
    public Task LD0002_WithoutAccessibility_KeepsTheAttributeAndLayout() =>
        Fix(
            $"/// <summary>A loss.</summary>\n[Loss]\npartial class {{|LD0002:L|}}\n{{\n    {Term}\n}}",
            $"/// <summary>A loss.</summary>\n[Loss]\nstatic partial class L\n{{\n    {Term}\n}}");

    [Fact]
    public Task LD0001AndLD0002_BothFixed() =>
        // Two fixes with their own equivalence keys: "fix all" applies one kind per pass, so two passes.
        Fix($"[Loss] public class {{|LD0001:{{|LD0002:L|}}|}} {{ {Term} }}", $"[Loss] public static partial class L {{ {Term} }}", fixAllIterations: 2);
}
