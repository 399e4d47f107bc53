using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;
using Xunit.Abstractions;

namespace LossDsl.Generators.Tests;

/// <summary>
/// A mutation fuzzer of the generator's own: a corpus of loss declarations is mutated token by token (deletions,
/// duplications, swaps, hostile literals, identifiers and modifiers, wrapping calls) and every mutant is fed to the
/// generator on a small stack. Every mutant must hold the generator's promises: no exception, every LD diagnostic inside the
/// user's file, and — when no LD error is reported and the user's code compiles on its own — generated code that compiles
/// without new warnings. Seeded and reproducible: a failure prints its seed and the mutant declaration;
/// <c>LOSSDSL_FUZZ_SEED</c> / <c>LOSSDSL_FUZZ_CASES</c> replay or widen a run.
/// </summary>
public class FuzzTests
{
    private readonly ITestOutputHelper _out;

    public FuzzTests(ITestOutputHelper output) => _out = output;

    /// <summary>Mutants per CI run (two shards run in parallel).</summary>
    internal static int Cases => int.TryParse(Environment.GetEnvironmentVariable("LOSSDSL_FUZZ_CASES"), out int n) ? n : 3000;

    internal static int BaseSeed => int.TryParse(Environment.GetEnvironmentVariable("LOSSDSL_FUZZ_SEED"), out int s) ? s : 20261202;

    private const string Usings = "using System;\nusing LossDsl;\nusing static LossDsl.Dsl;\n\n";

    /// <summary>Declarations the mutations start from: every surface of the DSL at least once.</summary>
    internal static readonly string[] Corpus =
    {
        Sources.StructureLoss,
        Sources.StructureLossAttributes,
        Sources.SoftDice,
        Sources.Focal,
        Usings + """
            namespace Fuzz.A;
            [Loss(Reduction = Reduction.Sum)]
            public static partial class Helpers
            {
                const int K = 5;
                static Field W(Target m, int k) => 1 + 3 * Abs(AvgPool(m, k) - m);
                static Field P(Logits x) => Sigmoid(x);
                [Term(Weight = 0.5)]
                static Plane Dice(Logits pred, Target mask)
                {
                    var p = P(pred);
                    var w = W(mask, K);
                    return 1 - (2 * Sum(w * p * mask) + 1) / (Sum(w * (p + mask)) + 1);
                }
                [Term] static Plane Bce(Logits pred, Target mask) => WeightedMean(BceWithLogits(pred, mask), W(mask, 3));
            }
            """,
        Usings + """
            namespace Fuzz.B;
            public static partial class Outer
            {
                [Loss(Reduction = Reduction.None, Backends = Backends.Cpu)]
                internal static partial class Mixed
                {
                    [Term] static Batch Global(Logits pred, Target mask) => BatchMean(Square(pred - mask));
                    [Term(Weight = 2)] static Plane Local(Logits pred, Target mask) => Mean(Clamp(pred, -3, 3) * MaxPool(mask, 3)) * BatchMean(Tanh(pred));
                    [Term] static Plane Pw(Logits pred, Target mask) => Mean(Pow(Sigmoid(pred), 1.5) + Log1p(Square(pred)) + Min(pred, mask) - Max(pred, 0.5) + Softplus(pred) / (1 + Exp(-Abs(pred))));
                }
            }
            """,
        Usings + """
            [Loss]
            static partial class Locals
            {
                [Term]
                static Plane T(Logits logits, Target target)
                {
                    Field Blur(Field x) => AvgPool(x, 3);
                    var b = Blur(MinPool(target, 5));
                    var s = Sqrt(1 + Square(logits)) * LogSigmoid(logits);
                    return Sum(b * s) / Sum(b + 1) + Sqrt(Square(Mean(s)) + 1);
                }
            }
            """,
        Usings + """
            namespace Fuzz.C;
            [Loss, BoundaryWeight(Kernel = 15, Gain = 3), WeightedBce(Weight = 0.5), WeightedIoU(Smooth = 0.5), Focal(Alpha = 0.5, Gamma = 1), Tversky(Alpha = 0.3, Beta = 0.7), SoftDice(Smooth = 2)]
            public static partial class Everything;
            """,
    };

    private static readonly string[] HostileLiterals =
    {
        "0", "-1", "1", "2", "3", "4", "31", "4095", "4097", "5001", "int.MaxValue", "-0.0", "0.5", "1e-320", "1e308", "-1e39",
        "double.NaN", "double.PositiveInfinity", "double.NegativeInfinity", "double.MaxValue", "double.Epsilon", "(0.0 / 0.0)", "(1 / 0.0)", "7 / 2",
        "(Reduction)7", "(Backends)(-1)", "(Backends)8", "float.MaxValue", "1e38",
    };

    private static readonly string[] HostileIdentifiers =
    {
        "pred", "mask", "Module", "Cpu", "Reference", "TorchOps", "Ilgpu", "Compute", "shape", "predGrad", "preds", "__x", "@class", "@double", "@in",
        "Field", "Plane", "Batch", "Logits", "Target", "Sigmoid", "AvgPool", "MaxPool", "Mean", "Sum", "BatchMean", "WeightedMean", "Clamp", "Pow",
        "Prelude", "Dsl", "Math", "Abs", "Exp", "Log", "Sqrt", "Min", "Max", "BceWithLogits", "Term", "Loss", "x", "w", "p",
    };

    private static readonly string[] HostileTokens =
    {
        "file", "ref", "in", "out", "static", "partial", "public", "private", "readonly", "this", "params", "unsafe", "abstract", "async",
        "[Term]", "[Loss]", "[Term(Weight = double.NaN)]", "+", "-", "*", "/", "%", "(", ")", ",", ";", "{", "}", "?", ":", "=>", "==", "!", "<", ">",
        "new", "null", "default", "typeof(int)", "nameof(pred)", "stackalloc", "<int>", "@",
    };

    private static readonly string[] Wrappers =
    {
        "Sigmoid({0})", "AvgPool({0}, 3)", "MaxPool({0}, 5)", "Mean({0})", "Sum({0})", "BatchMean({0})", "Square({0})", "Clamp({0}, 1, -1)",
        "Pow({0}, 0.5)", "Log({0})", "({0} * {0})", "({0} + Mean({0}))", "WeightedMean({0}, {0})", "Prelude.BoundaryWeight({0}, 3, 1)", "(Field){0}",
    };

    /// <summary>One mutant: 1–3 mutations of a corpus declaration, drawn from <paramref name="seed"/>.</summary>
    internal static string Mutate(int seed)
    {
        var rng = new Random(seed);
        string source = Corpus[rng.Next(Corpus.Length)];
        int mutations = 1 + rng.Next(3);
        for (int m = 0; m < mutations; m++)
        {
            var tokens = CSharpSyntaxTree.ParseText(source).GetRoot().DescendantTokens().Where(t => t.Span.Length > 0).ToList();
            if (tokens.Count == 0)
            {
                break;
            }

            var t = tokens[rng.Next(tokens.Count)];
            string text = t.Text;
            string replacement;
            switch (rng.Next(8))
            {
                case 0:
                    replacement = string.Empty;
                    break;
                case 1:
                    replacement = text + " " + text;
                    break;
                case 2:
                    var literals = tokens.Where(x => x.IsKind(SyntaxKind.NumericLiteralToken)).ToList();
                    if (literals.Count > 0)
                    {
                        t = literals[rng.Next(literals.Count)];
                    }

                    replacement = HostileLiterals[rng.Next(HostileLiterals.Length)];
                    break;
                case 3:
                    var identifiers = tokens.Where(x => x.IsKind(SyntaxKind.IdentifierToken)).ToList();
                    if (identifiers.Count > 0)
                    {
                        t = identifiers[rng.Next(identifiers.Count)];
                    }

                    replacement = HostileIdentifiers[rng.Next(HostileIdentifiers.Length)];
                    break;
                case 4:
                    replacement = HostileTokens[rng.Next(HostileTokens.Length)] + " " + text;
                    break;
                case 5:
                    var names = tokens.Where(x => x.IsKind(SyntaxKind.IdentifierToken) && x.Parent is Microsoft.CodeAnalysis.CSharp.Syntax.IdentifierNameSyntax).ToList();
                    if (names.Count > 0)
                    {
                        t = names[rng.Next(names.Count)];
                    }

                    replacement = string.Format(CultureInfo.InvariantCulture, Wrappers[rng.Next(Wrappers.Length)], t.Text);
                    break;
                case 6:
                    int i = tokens.IndexOf(t);
                    if (i + 1 < tokens.Count)
                    {
                        var next = tokens[i + 1];
                        source = source.Substring(0, t.SpanStart) + next.Text + source.Substring(t.Span.End, next.SpanStart - t.Span.End) + text + source.Substring(next.Span.End);
                        continue;
                    }

                    replacement = text;
                    break;
                default:
                    // Copy a random token elsewhere: a crude crossover inside the declaration.
                    replacement = tokens[rng.Next(tokens.Count)].Text + " " + text;
                    break;
            }

            source = source.Substring(0, t.SpanStart) + replacement + source.Substring(t.Span.End);
        }

        return source;
    }

    /// <summary>Checks one declaration; returns null when the generator kept its promises, else what went wrong.</summary>
    internal static string? Violation(string source, bool withBackends, out bool ldError)
    {
        ldError = false;
        var compilation = withBackends ? GeneratorHarness.CompilationWithBackends(source) : GeneratorHarness.Compilation(source);
        Compilation output = null!;
        GeneratorDriver driver;
        try
        {
            driver = SmallStack.Run(() => GeneratorHarness.Driver().RunGeneratorsAndUpdateCompilation(compilation, out output, out _));
        }
        catch (Exception e)
        {
            return "the generator driver threw: " + e;
        }

        var result = driver.GetRunResult().Results.Single();
        if (result.Exception is not null)
        {
            return "the generator threw: " + result.Exception;
        }

        foreach (var d in result.Diagnostics)
        {
            if (!d.Id.StartsWith("LD", StringComparison.Ordinal))
            {
                return "a diagnostic that is not LossDsl's: " + d;
            }

            if (d.Location.Kind == LocationKind.None || d.Location.GetLineSpan().Path != GeneratorHarness.DefaultPath)
            {
                return "a diagnostic outside the user's file: " + d;
            }

            var span = d.Location.SourceSpan;
            if (span.End > source.Length)
            {
                return "a diagnostic beyond the end of the user's file: " + d;
            }
        }

        ldError = result.Diagnostics.Any(d => d.Severity == DiagnosticSeverity.Error);
        if (ldError || result.GeneratedSources.IsEmpty)
        {
            return null;
        }

        // The user's code on its own versus with the generated parts: the generator may add no error and no warning.
        var before = new HashSet<string>(compilation.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning).Select(Key));
        if (before.Any(k => k.StartsWith("Error", StringComparison.Ordinal)))
        {
            return null;
        }

        var added = output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning && !before.Contains(Key(d))).ToList();
        return added.Count == 0 ? null : "generated code does not compile cleanly:\n" + string.Join("\n", added.Take(10));
    }

    private static string Key(Diagnostic d) => d.Severity + " " + d.Id + " " + d.Location.GetLineSpan();

    /// <summary>The mutants, in two shards on two threads (the CI machine has two cores).</summary>
    [Fact]
    public void Mutants_KeepTheGeneratorsPromises()
    {
        var watch = Stopwatch.StartNew();
        int cases = Cases, withLd = 0, generated = 0, torch = 0;
        var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
        Parallel.For(0, 2, new ParallelOptions { MaxDegreeOfParallelism = 2 }, shard =>
        {
            for (int i = shard; i < cases && failures.Count < 5; i += 2)
            {
                int seed = BaseSeed + i;
                string source = Mutate(seed);
                // One mutant in eight also sees the TorchSharp and ILGPU runtimes, so their emitters are fuzzed too.
                bool backends = seed % 8 == 0;
                string? violation = Violation(source, backends, out bool ld);
                Interlocked.Add(ref withLd, ld ? 1 : 0);
                Interlocked.Add(ref generated, ld ? 0 : 1);
                Interlocked.Add(ref torch, backends ? 1 : 0);
                if (violation is not null)
                {
                    failures.Enqueue($"seed {seed} (set LOSSDSL_FUZZ_SEED={seed} LOSSDSL_FUZZ_CASES=1 to replay; backends: {backends}): {violation}\n--- declaration ---\n{source}\n---");
                }
            }
        });

        _out.WriteLine($"{cases} mutants (seeds {BaseSeed}…{BaseSeed + cases - 1}), {torch} with the backend runtimes; {withLd} with an LD error, {generated} without; {watch.Elapsed.TotalSeconds:F1} s");
        Assert.True(failures.IsEmpty, string.Join("\n\n", failures));
    }

    [Fact]
    public void Mutations_AreReproducible()
    {
        Assert.Equal(Mutate(BaseSeed + 17), Mutate(BaseSeed + 17));
        Assert.NotEqual(Mutate(BaseSeed + 17), Mutate(BaseSeed + 18));
    }
}
