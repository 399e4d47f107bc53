using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using LossDsl.Compiler.Tests.Evaluation;
using LossDsl.Generators;
using LossDsl.Generators.Differentiate;
using LossDsl.Generators.Lower;
using LossDsl.Generators.Model;
using LossDsl.Generators.Parse;
using LossDsl.Generators.Schedule;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace LossDsl.Compiler.Tests.Autodiff;

/// <summary>
/// One loss declaration taken through the compiler's stages (Parse → Lower → Differentiate → Schedule) by direct calls, and
/// through Roslyn with the generator into an in-memory assembly whose generated <c>L.Reference</c> (the DSL's reference
/// interpreter, double precision) gives the loss value to differentiate numerically.
/// </summary>
internal sealed class CompiledLoss
{
    private static readonly Lazy<MetadataReference[]> References = new(() =>
    {
        var tpa = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        var paths = new HashSet<string>(tpa, StringComparer.Ordinal) { typeof(Field).Assembly.Location };
        return paths.Where(p => p.EndsWith(".dll", StringComparison.OrdinalIgnoreCase)).Select(p => (MetadataReference)MetadataReference.CreateFromFile(p)).ToArray();
    });

    private static readonly ConcurrentDictionary<string, Assembly> Assemblies = new();

    private readonly MethodInfo _planeLosses;
    private readonly MethodInfo _compute;

    private CompiledLoss(LossSpec spec, ScheduleSpec schedule, MethodInfo planeLosses, MethodInfo compute)
    {
        Spec = spec;
        Schedule = schedule;
        _planeLosses = planeLosses;
        _compute = compute;
    }

    public LossSpec Spec { get; }

    public ScheduleSpec Schedule { get; }

    public Graph Graph => Schedule.Graph;

    public int InputCount => Spec.Inputs.Count;

    public IEnumerable<int> LogitsInputs => Enumerable.Range(0, InputCount).Where(i => Spec.Inputs[i].Role == InputRole.Logits);

    /// <summary>
    /// A loss class declared in <paramref name="body"/> (members only) as <c>[Loss(...)] static partial class L</c> in the
    /// namespace <c>T</c>, with <c>using static LossDsl.Dsl;</c> and <c>using static LossDsl.Prelude;</c>.
    /// </summary>
    public static CompiledLoss Declare(string attributes, string body)
    {
        string source = $$"""
            using LossDsl;
            using static LossDsl.Dsl;
            using static LossDsl.Prelude;

            namespace T;

            [{{attributes}}]
            public static partial class L
            {
            {{body}}
            }
            """;
        return FromSource(source, "T.L");
    }

    /// <summary>A source file of the repository (found from the test's output folder upwards).</summary>
    public static string RepositoryFile(string relativePath)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "LossDsl.sln")))
            {
                return File.ReadAllText(Path.Combine(dir.FullName, relativePath));
            }
        }

        throw new FileNotFoundException("LossDsl.sln not found above " + AppContext.BaseDirectory);
    }

    /// <summary>Compiles a whole source file and takes the loss <paramref name="typeName"/> (metadata name) from it.</summary>
    public static CompiledLoss FromSource(string source, string typeName)
    {
        var parse = new CSharpParseOptions(LanguageVersion.Latest);
        var tree = CSharpSyntaxTree.ParseText(source, parse, path: "Loss.cs");
        var options = new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, allowUnsafe: true, nullableContextOptions: NullableContextOptions.Enable);
        var compilation = CSharpCompilation.Create("LossUnderTest_" + Guid.NewGuid().ToString("N"), new[] { tree }, References.Value, options);
        Fail("declaration", compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error));

        // The compiler's middle, stage by stage, as LossGenerator.Compile runs it.
        var type = compilation.GetTypeByMetadataName(typeName) ?? throw new InvalidOperationException($"No type {typeName}.");
        var syntax = type.DeclaringSyntaxReferences.First().SyntaxTree;
        var (spec, diagnostics) = Parser.Parse(type, compilation.GetSemanticModel(syntax), default);
        if (spec is null || diagnostics.Count > 0)
        {
            throw new InvalidOperationException("Parse failed: " + string.Join("; ", diagnostics.Select(d => d.ToDiagnostic().ToString())));
        }

        var lowered = Lowerer.Lower(spec);
        var differentiated = Differentiator.Differentiate(lowered);
        var schedule = Scheduler.Schedule(differentiated);
        if (!schedule.Equals(LossGenerator.Compile(spec)))
        {
            throw new InvalidOperationException("The stage-by-stage schedule differs from LossGenerator.Compile's.");
        }

        ScheduleValidator.Validate(schedule);

        // The reference interpreter: the generator's Reference output only (the backends are not under test here).
        var assembly = Assemblies.GetOrAdd(source, _ => Build(compilation, parse));
        var reference = assembly.GetType(typeName + "+Reference") ?? throw new InvalidOperationException("No generated Reference class.");
        return new CompiledLoss(spec, schedule, reference.GetMethod("PlaneLosses")!, reference.GetMethod("Compute")!);
    }

    private static Assembly Build(CSharpCompilation compilation, CSharpParseOptions parse)
    {
        GeneratorDriver driver = CSharpGeneratorDriver.Create(new[] { new LossGenerator().AsSourceGenerator() }, parseOptions: parse);
        var run = driver.RunGenerators(compilation).GetRunResult();
        Fail("generator", run.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error));
        var referenceTrees = run.Results.SelectMany(r => r.GeneratedSources).Where(s => s.HintName.EndsWith(".Reference.g.cs", StringComparison.Ordinal)).Select(s => s.SyntaxTree).ToList();
        if (referenceTrees.Count == 0)
        {
            throw new InvalidOperationException("The generator produced no Reference source.");
        }

        var full = compilation.AddSyntaxTrees(referenceTrees);
        using var stream = new MemoryStream();
        var emit = full.Emit(stream);
        Fail("reference build", emit.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error));
        return Assembly.Load(stream.ToArray());
    }

    private static void Fail(string stage, IEnumerable<Diagnostic> errors)
    {
        var list = errors.ToList();
        if (list.Count > 0)
        {
            throw new InvalidOperationException($"{stage} has errors:\n" + string.Join("\n", list));
        }
    }

    private object[] Args(LossShape shape, double[][] inputs)
    {
        var args = new object[InputCount];
        for (int i = 0; i < InputCount; i++)
        {
            args[i] = Spec.Inputs[i].Role == InputRole.Logits ? new Logits(shape, (double[])inputs[i].Clone()) : new Target(shape, (double[])inputs[i].Clone());
        }

        return args;
    }

    /// <summary>The reference interpreter's per-plane losses.</summary>
    public double[] ReferencePlaneLosses(LossShape shape, double[][] inputs) => Invoke<double[]>(_planeLosses, Args(shape, inputs));

    /// <summary>The reference interpreter's reduced loss.</summary>
    public double ReferenceCompute(LossShape shape, double[][] inputs) => Invoke<double>(_compute, Args(shape, inputs));

    private static TResult Invoke<TResult>(MethodInfo m, object[] args)
    {
        try
        {
            return (TResult)m.Invoke(null, args)!;
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            throw e.InnerException;
        }
    }

    /// <summary>The default seed the reduction implies: 1/planes for Mean, 1 for Sum and None.</summary>
    public double[] DefaultSeeds(LossShape shape) =>
        Enumerable.Repeat(Spec.Reduction == ReductionKind.Mean ? 1.0 / shape.Planes : 1.0, shape.Planes).ToArray();

    /// <summary>The IR's per-plane loss and the gradient for every input (null for targets), by the independent evaluator.</summary>
    public (double[] PlaneLoss, double[]?[] Gradients) Evaluate(LossShape shape, double[][] inputs, double[] seeds)
    {
        var ev = new GraphEvaluator(Graph, shape, inputs, seeds);
        var planeLoss = ev.ValueAt(Schedule.PlaneLoss, Rank.Plane);
        var gradients = new double[]?[InputCount];
        foreach (var o in Schedule.Gradients)
        {
            gradients[o.Input] = ev.ValueAt(o.Node, Rank.Field);
        }

        return (planeLoss, gradients);
    }
}
