using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Threading;
using LossDsl.Generators.Diagnostics;
using LossDsl.Generators.Model;
using LossDsl.Generators.Parse;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace LossDsl.Generators.Tests;

/// <summary>The outcome of one generator run over a compilation.</summary>
internal sealed record GeneratorOutput(
    GeneratorDriver Driver,
    GeneratorDriverRunResult RunResult,
    ImmutableArray<(string Hint, string Text)> Sources,
    ImmutableArray<Diagnostic> GeneratorDiagnostics,
    ImmutableArray<Diagnostic> CompilationDiagnostics)
{
    public GeneratorRunResult Result => RunResult.Results.Single();

    public Exception? Exception => Result.Exception;

    public string Source(string hintSuffix) =>
        Sources.Where(s => s.Hint.EndsWith(hintSuffix, StringComparison.Ordinal)).Select(s => s.Text).SingleOrDefault()
        ?? throw new InvalidOperationException($"No generated source ending in '{hintSuffix}'; have: {string.Join(", ", Sources.Select(s => s.Hint))}");

    /// <summary>Warnings and errors of the compilation after generation (source + generated code).</summary>
    public IEnumerable<Diagnostic> CompilationProblems => CompilationDiagnostics.Where(d => d.Severity >= DiagnosticSeverity.Warning);
}

/// <summary>
/// Runs <see cref="LossGenerator"/> the way the compiler does: a C# compilation over the framework assemblies plus
/// LossDsl.dll, unsafe code allowed, nullable on, every warning enabled, step tracking on.
/// </summary>
internal static class GeneratorHarness
{
    public const string DefaultPath = "Loss.cs";

    public static readonly CSharpParseOptions ParseOptions =
        CSharpParseOptions.Default.WithLanguageVersion(LanguageVersion.Latest).WithDocumentationMode(DocumentationMode.Diagnose);

    public static readonly CSharpCompilationOptions CompilationOptions =
        new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary)
            .WithAllowUnsafe(true)
            .WithNullableContextOptions(NullableContextOptions.Enable)
            .WithWarningLevel(9999)
            .WithDeterministic(true)
            // Missing doc comments on the tests' own sources are not the generator's business.
            // CS1701/CS1702 (assembly version unification, e.g. TorchSharp built against .NET 8) are off in every SDK build too.
            .WithSpecificDiagnosticOptions(new Dictionary<string, ReportDiagnostic>
            {
                ["CS1591"] = ReportDiagnostic.Suppress,
                ["CS1701"] = ReportDiagnostic.Suppress,
                ["CS1702"] = ReportDiagnostic.Suppress,
            });

    private static readonly Lazy<ImmutableArray<MetadataReference>> LazyReferences = new(LoadReferences, LazyThreadSafetyMode.ExecutionAndPublication);

    private static readonly Lazy<ImmutableArray<MetadataReference>> LazyBackendReferences = new(LoadBackendReferences, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The framework plus LossDsl.dll: no backend runtime, so only the Reference and Cpu files are generated.</summary>
    public static ImmutableArray<MetadataReference> References => LazyReferences.Value;

    /// <summary><see cref="References"/> plus LossDsl.TorchSharp and LossDsl.Ilgpu with TorchSharp and ILGPU: every backend is generated.</summary>
    public static ImmutableArray<MetadataReference> BackendReferences => LazyBackendReferences.Value;

    /// <summary>Assembly file names of the backend runtimes and their libraries (the test project references them, so they are in the host's list).</summary>
    private static bool IsBackendAssembly(string path)
    {
        string name = Path.GetFileName(path);
        return name.StartsWith("LossDsl.TorchSharp", StringComparison.Ordinal) || name.StartsWith("LossDsl.Ilgpu", StringComparison.Ordinal)
            || name.StartsWith("TorchSharp", StringComparison.Ordinal) || name.StartsWith("ILGPU", StringComparison.Ordinal);
    }

    private static ImmutableArray<MetadataReference> LoadReferences()
    {
        var paths = ((string?)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") ?? string.Empty)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Append(typeof(LossDsl.Dsl).Assembly.Location)
            .Where(p => p.EndsWith(".dll", StringComparison.OrdinalIgnoreCase))
            .GroupBy(p => Path.GetFileName(p), StringComparer.OrdinalIgnoreCase)
            .Select(g => g.First())
            // By default the tests must not see backend runtimes (TorchSharp/ILGPU emitters appear only with them).
            .Where(p => !IsBackendAssembly(p));
        return paths.Select(p => (MetadataReference)MetadataReference.CreateFromFile(p)).ToImmutableArray();
    }

    private static ImmutableArray<MetadataReference> LoadBackendReferences()
    {
        var backends = new[]
        {
            typeof(LossDsl.TorchSharp.TensorBridge).Assembly,
            typeof(global::TorchSharp.torch).Assembly,
            typeof(LossDsl.Ilgpu.IlgpuBridge).Assembly,
            typeof(global::ILGPU.Context).Assembly,
            typeof(global::ILGPU.Algorithms.XMath).Assembly,
        };
        return References.AddRange(backends.Select(a => a.Location).Distinct(StringComparer.Ordinal).Select(p => (MetadataReference)MetadataReference.CreateFromFile(p)));
    }

    public static CSharpCompilation Compilation(params string[] sources) =>
        Compilation(sources.Select((s, i) => (i == 0 ? DefaultPath : $"Other{i}.cs", s)).ToArray());

    public static CSharpCompilation Compilation(params (string Path, string Text)[] sources) => Compilation(References, sources);

    /// <summary>A compilation that references the TorchSharp and ILGPU runtimes, so all four files are generated.</summary>
    public static CSharpCompilation CompilationWithBackends(params string[] sources) =>
        Compilation(BackendReferences, sources.Select((s, i) => (i == 0 ? DefaultPath : $"Other{i}.cs", s)).ToArray());

    private static CSharpCompilation Compilation(ImmutableArray<MetadataReference> references, (string Path, string Text)[] sources) =>
        CSharpCompilation.Create(
            "LossDsl.Tests.Input",
            sources.Select(s => CSharpSyntaxTree.ParseText(s.Text, ParseOptions, s.Path)),
            references,
            CompilationOptions);

    public static GeneratorDriver Driver() =>
        CSharpGeneratorDriver.Create(
            new[] { new LossGenerator().AsSourceGenerator() },
            parseOptions: ParseOptions,
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

    public static GeneratorOutput Run(params string[] sources) => Run(Compilation(sources));

    /// <summary>Runs over <see cref="CompilationWithBackends"/>: Reference, Cpu, TorchSharp and Ilgpu files.</summary>
    public static GeneratorOutput RunWithBackends(params string[] sources) => Run(CompilationWithBackends(sources));

    public static GeneratorOutput Run(Compilation compilation, GeneratorDriver? driver = null)
    {
        driver = (driver ?? Driver()).RunGeneratorsAndUpdateCompilation(compilation, out var output, out _);
        var run = driver.GetRunResult();
        var result = run.Results.Single();
        var sources = result.GeneratedSources.Select(s => (s.HintName, s.SourceText.ToString().Replace("\r\n", "\n"))).ToImmutableArray();
        return new GeneratorOutput(driver, run, sources, result.Diagnostics, output.GetDiagnostics());
    }

    /// <summary>
    /// As <see cref="Run(Compilation, GeneratorDriver?)"/>, with the generator on a thread with a small stack
    /// (<see cref="SmallStack.Bytes"/>) so that recursion the input can drive deep shows up here; the output compilation is then
    /// bound on the calling thread, as the C# compiler would bind it.
    /// </summary>
    public static GeneratorOutput RunOnSmallStack(Compilation compilation)
    {
        Compilation output = null!;
        var driver = SmallStack.Run(() => Driver().RunGeneratorsAndUpdateCompilation(compilation, out output, out _));
        var run = driver.GetRunResult();
        var result = run.Results.Single();
        var sources = result.GeneratedSources.Select(s => (s.HintName, s.SourceText.ToString().Replace("\r\n", "\n"))).ToImmutableArray();
        return new GeneratorOutput(driver, run, sources, result.Diagnostics, output.GetDiagnostics());
    }

    /// <summary>Runs the generator only (no binding of the output compilation): for the many-runs robustness tests.</summary>
    public static GeneratorRunResult RunGeneratorOnly(string source) =>
        Driver().RunGenerators(Compilation(source)).GetRunResult().Results.Single();

    /// <summary>Runs with <see cref="CultureInfo.CurrentCulture"/> and <see cref="CultureInfo.CurrentUICulture"/> set to <paramref name="culture"/>.</summary>
    public static GeneratorOutput RunUnder(CultureInfo culture, params string[] sources)
    {
        var (c, ui) = (CultureInfo.CurrentCulture, CultureInfo.CurrentUICulture);
        CultureInfo.CurrentCulture = culture;
        CultureInfo.CurrentUICulture = culture;
        try
        {
            return Run(sources);
        }
        finally
        {
            CultureInfo.CurrentCulture = c;
            CultureInfo.CurrentUICulture = ui;
        }
    }

    /// <summary>Parses one loss class directly with <see cref="Parser"/> (no driver).</summary>
    public static (LossSpec? Spec, ImmutableEquatableArray<DiagnosticInfo> Diagnostics) Parse(string source, string metadataName)
    {
        var compilation = Compilation(source);
        var type = compilation.GetTypeByMetadataName(metadataName) ?? throw new InvalidOperationException("No type " + metadataName);
        var tree = type.DeclaringSyntaxReferences[0].SyntaxTree;
        return Parser.Parse(type, compilation.GetSemanticModel(tree), CancellationToken.None);
    }

    public static LossSpec ParseSpec(string source, string metadataName)
    {
        var (spec, diagnostics) = Parse(source, metadataName);
        Xunit.Assert.True(diagnostics.Count == 0, "unexpected diagnostics: " + string.Join("; ", diagnostics.Select(d => d.Id + " " + string.Join("|", d.Args))));
        return spec ?? throw new InvalidOperationException("no spec");
    }
}
