using System.Linq;
using LossDsl.Generators.Differentiate;
using LossDsl.Generators.Diagnostics;
using LossDsl.Generators.Emit;
using LossDsl.Generators.Kernels;
using LossDsl.Generators.Lower;
using LossDsl.Generators.Model;
using LossDsl.Generators.Parse;
using LossDsl.Generators.Schedule;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace LossDsl.Generators;

/// <summary>
/// The result of parsing one loss class: the spec (null when anything was wrong), the diagnostics, and where the class is
/// declared (kept beside the spec, not in it, so moving the class leaves the spec and its schedule cached).
/// </summary>
internal sealed record ParseResult(LossSpec? Spec, ImmutableEquatableArray<DiagnosticInfo> Diagnostics, LocationInfo? Location);

/// <summary>Tracking names of the pipeline steps, asserted by the incremental tests.</summary>
internal static class TrackingNames
{
    public const string Parse = nameof(Parse);
    public const string Diagnostics = nameof(Diagnostics);
    public const string Spec = nameof(Spec);
    public const string Schedule = nameof(Schedule);
    public const string Kernels = nameof(Kernels);
    public const string StrayTerms = nameof(StrayTerms);
}

/// <summary>
/// The LossDsl source generator: Parse → Lower → Differentiate → Schedule → Emit, one stage per folder, with a
/// value-equatable model between stages so unrelated edits leave every step cached.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class LossGenerator : IIncrementalGenerator
{
    /// <inheritdoc/>
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var parsed = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                Parser.LossAttributeName,
                static (node, _) => node is TypeDeclarationSyntax,
                static (ctx, ct) =>
                {
                    var (spec, diagnostics) = Parser.Parse((INamedTypeSymbol)ctx.TargetSymbol, ctx.SemanticModel, ct);
                    return new ParseResult(spec, diagnostics, LocationInfo.From(ctx.TargetSymbol.Locations.FirstOrDefault()));
                })
            .WithTrackingName(TrackingNames.Parse);

        var diagnostics = parsed.Select(static (r, _) => r.Diagnostics).WithTrackingName(TrackingNames.Diagnostics);
        context.RegisterSourceOutput(diagnostics, static (spc, list) =>
        {
            foreach (var d in list)
            {
                spc.ReportDiagnostic(d.ToDiagnostic());
            }
        });

        var schedules = parsed
            .Where(static r => r.Spec is not null)
            .Select(static (r, _) => r.Spec!)
            .WithTrackingName(TrackingNames.Spec)
            .Select(static (spec, _) => Compile(spec))
            .WithTrackingName(TrackingNames.Schedule);

        var programs = schedules
            .Select(static (s, _) => KernelPlanner.Plan(s))
            .WithTrackingName(TrackingNames.Kernels);

        // Where each loss is declared, relative to its project, for the loss card. It meets the kernel programs only at the
        // emit step, so moving a class re-prints its files without re-running the schedule.
        var projectDir = context.AnalyzerConfigOptionsProvider
            .Select(static (o, _) => o.GlobalOptions.TryGetValue("build_property.ProjectDir", out var dir) ? dir : null);
        var sites = parsed
            .Where(static r => r.Spec is not null && r.Location is not null)
            .Select(static (r, _) => (Key: r.Spec!.Type.FullName, Path: r.Location!.FilePath, Line: r.Location.LineSpan.Start.Line + 1))
            .Collect()
            .Combine(projectDir);

        // Hint names must be unique ignoring case across the compilation: each file's prefix is chosen knowing the others' names.
        var names = programs.Select(static (s, _) => s.Spec.Type.FullName).Collect().Select(static (a, _) => a.ToEquatable());
        context.RegisterSourceOutput(programs.Combine(sites).Combine(names), static (spc, pair) =>
        {
            var (s, (list, dir)) = pair.Left;
            string prefix = HintNames.Prefix(s.Spec.Type.FullName, pair.Right);
            var site = list.FirstOrDefault(x => x.Key == s.Spec.Type.FullName);
            string card = LossCard.Render(s.Schedule, site.Path is null ? null : $"{RelativePath(site.Path, dir)}({site.Line.ToString(System.Globalization.CultureInfo.InvariantCulture)})");
            void Add(string backend, string text) => spc.AddSource(Shell.Hint(prefix, backend), Shell.WithCard(text, card));

            Add("Reference", ReferenceEmitter.Emit(s.Schedule));
            if (s.Spec.Backends.HasFlag(BackendSet.Cpu))
            {
                Add("Cpu", CpuEmitter.Emit(s));
            }

            if (s.Spec.Backends.HasFlag(BackendSet.TorchSharp) && TorchSharpEmitter.Emit(s) is { } torch)
            {
                Add("TorchSharp", torch);
            }

            if (s.Spec.Backends.HasFlag(BackendSet.Ilgpu) && IlgpuEmitter.Emit(s) is { } ilgpu)
            {
                Add("Ilgpu", ilgpu);
            }
        });

        RegisterIlgpuArity(context, parsed, programs);

        // LD0023: [Term] where no loss reads it (a class without [Loss], a nested class, a local function).
        var strayTerms = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                Parser.TermAttributeName,
                static (node, _) => node is MethodDeclarationSyntax or LocalFunctionStatementSyntax,
                static (ctx, _) => Parser.StrayTerm(ctx.TargetSymbol, ctx.SemanticModel.Compilation))
            .Where(static d => d is not null)
            .WithTrackingName(TrackingNames.StrayTerms);
        context.RegisterSourceOutput(strayTerms, static (spc, d) => spc.ReportDiagnostic(d!.ToDiagnostic()));
    }

    /// <summary>
    /// LD0020: the ILGPU kernels' parameter counts come from the kernel program, the class location from the parse result. The two
    /// meet in one cheap collected step keyed by the type's name, so a moved class re-reports the warning at its new place
    /// without re-running the schedule or the emitters.
    /// </summary>
    private static void RegisterIlgpuArity(
        IncrementalGeneratorInitializationContext context,
        IncrementalValuesProvider<ParseResult> parsed,
        IncrementalValuesProvider<KernelProgram> programs)
    {
        var tooWide = programs
            .Where(static s => s.Spec.Backends.HasFlag(BackendSet.Ilgpu))
            .Select(static (s, _) => (Key: s.Spec.Type.FullName, s.Spec.Type.Name, Count: IlgpuEmitter.ParameterCount(s)))
            .Where(static x => x.Count > IlgpuEmitter.MaxLoaderArity)
            .Collect();
        var locations = parsed
            .Where(static r => r.Spec is not null)
            .Select(static (r, _) => (Key: r.Spec!.Type.FullName, r.Location))
            .Collect();
        context.RegisterSourceOutput(tooWide.Combine(locations), static (spc, pair) =>
        {
            foreach (var (key, name, count) in pair.Left)
            {
                var location = pair.Right.FirstOrDefault(l => l.Key == key).Location;
                var info = new DiagnosticInfo(
                    DiagnosticDescriptors.IlgpuTooManyParameters.Id,
                    location,
                    new[] { name, count.ToString(System.Globalization.CultureInfo.InvariantCulture), IlgpuEmitter.MaxLoaderArity.ToString(System.Globalization.CultureInfo.InvariantCulture) }.ToEquatable());
                spc.ReportDiagnostic(info.ToDiagnostic());
            }
        });
    }

    /// <summary>
    /// A declaration's path as the user knows it: relative to the project directory with forward slashes, or the file name
    /// alone when the file lies elsewhere or the directory is unknown (never a machine's absolute path).
    /// </summary>
    internal static string RelativePath(string path, string? projectDir)
    {
        string p = path.Replace('\\', '/');
        if (projectDir is { Length: > 0 })
        {
            string d = projectDir.Replace('\\', '/');
            d = d.EndsWith("/", System.StringComparison.Ordinal) ? d : d + "/";
            if (p.StartsWith(d, System.StringComparison.OrdinalIgnoreCase))
            {
                return p.Substring(d.Length);
            }
        }

        int slash = p.LastIndexOf('/');
        return slash >= 0 ? p.Substring(slash + 1) : p;
    }

    /// <summary>The compiler's middle: lower, differentiate and schedule a parsed loss (the kernel program is planned from it).</summary>
    internal static ScheduleSpec Compile(LossSpec spec) => Scheduler.Schedule(Differentiator.Differentiate(Lowerer.Lower(spec)));
}
