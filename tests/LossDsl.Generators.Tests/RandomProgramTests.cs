using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.Loader;
using System.Text;
using Microsoft.CodeAnalysis;
using Xunit;
using Xunit.Abstractions;

namespace LossDsl.Generators.Tests;

/// <summary>
/// Random well-formed losses, generated from a seeded grammar of the DSL (pointwise ops, target-only stencils, reductions,
/// per-plane and whole-batch terms, helpers and locals), compiled in memory with the generator and run: the CPU backend in
/// double and float against the generated reference interpreter, its gradient against central finite differences of the
/// interpreter in double, and for a sample the TorchSharp tensor-op path. A failure prints the seed and the declaration;
/// <c>LOSSDSL_RANDOM_SEED</c> / <c>LOSSDSL_RANDOM_PROGRAMS</c> replay or widen a run.
/// </summary>
public class RandomProgramTests
{
    private readonly ITestOutputHelper _out;

    public RandomProgramTests(ITestOutputHelper output) => _out = output;

    internal static int Programs => int.TryParse(Environment.GetEnvironmentVariable("LOSSDSL_RANDOM_PROGRAMS"), out int n) ? n : 300;

    internal static int BaseSeed => int.TryParse(Environment.GetEnvironmentVariable("LOSSDSL_RANDOM_SEED"), out int s) ? s : 77001;

    /// <summary>Programs per compilation: compiling them together keeps the test fast.</summary>
    private const int BatchSize = 50;

    /// <summary>Programs (of the first batch) also run on the TorchSharp tensor-op path.</summary>
    internal const int TorchSample = 24;

    private const int N = 2, C = 1, H = 6, W = 5;

    /// <summary>A random loss declaration named <c>R{seed}</c>.</summary>
    internal sealed class Grammar
    {
        private readonly Random _rng;

        public Grammar(int seed) => _rng = new Random(seed);

        private T Pick<T>(params T[] items) => items[_rng.Next(items.Length)];

        private string C(params string[] values) => Pick(values);

        private string K() => C("1", "3", "5");

        public string Target(int d) => d <= 0 || _rng.Next(3) == 0
            ? "mask"
            : _rng.Next(7) switch
            {
                0 => $"AvgPool({Target(d - 1)}, {K()})",
                1 => $"MaxPool({Target(d - 1)}, {K()})",
                2 => $"MinPool({Target(d - 1)}, {K()})",
                3 => $"(1 + {C("2", "5")} * Abs(AvgPool(mask, {K()}) - mask))",
                4 => $"Square({Target(d - 1)})",
                5 => $"Prelude.BoundaryWeight(mask, {K()}, {C("1", "0.5")})",
                _ => $"({Target(d - 1)} * {C("0.5", "2")})",
            };

        public string Field(int d, string[] leaves)
        {
            if (d <= 0 || _rng.Next(5) == 0)
            {
                return _rng.Next(4) == 0 ? Target(1) : Pick(leaves);
            }

            string F() => Field(d - 1, leaves);
            return _rng.Next(22) switch
            {
                0 => $"Sigmoid({F()})",
                1 => $"Tanh({F()})",
                2 => $"Softplus({F()})",
                3 => $"LogSigmoid({F()})",
                4 => $"Abs({F()})",
                5 => $"Square({F()})",
                6 => $"Exp(Clamp({F()}, -3, 3))",
                7 => $"Log(1 + Square({F()}))",
                8 => $"Log1p(Square({F()}))",
                9 => $"Sqrt(1 + Square({F()}))",
                10 => $"Pow(Sigmoid({F()}), {C("1.5", "2", "3")})",
                11 => $"Clamp({F()}, -{C("0.5", "1")}, {C("0.5", "2")})",
                12 => $"Min({F()}, {F()})",
                13 => $"Max({F()}, {F()})",
                14 => $"Max({F()}, {C("0.25", "-0.5")})",
                15 => $"({F()} + {F()})",
                16 => $"({F()} - {F()})",
                17 => $"({F()} * {F()})",
                18 => $"({F()} / (1 + Square({F()})))",
                19 => $"({C("0.5", "-2", "3")} * {F()})",
                20 => $"BceWithLogits({F()}, Sigmoid({Target(1)}))",
                _ => $"(-{F()})",
            };
        }

        public string Plane(int d, string[] leaves, bool batch)
        {
            if (d <= 0 || _rng.Next(4) == 0)
            {
                return _rng.Next(3) switch
                {
                    0 => $"Sum({Field(2, leaves)})",
                    1 => $"Mean({Field(3, leaves)})",
                    _ => $"WeightedMean({Field(3, leaves)}, 1 + Square({Target(2)}))",
                };
            }

            string P() => Plane(d - 1, leaves, batch);
            return _rng.Next(batch ? 9 : 8) switch
            {
                0 => $"({P()} + {P()})",
                1 => $"({P()} * {P()})",
                2 => $"({P()} - {P()})",
                3 => $"({C("0.5", "2")} * {P()})",
                4 => $"Sigmoid({P()})",
                5 => $"Sqrt(1 + Square({P()}))",
                6 => $"({P()} / (1 + Square({P()})))",
                7 => $"Clamp({P()}, -1, {C("1", "3")})",
                _ => $"({P()} * BatchMean({Field(2, leaves)}))",
            };
        }

        public string Declaration(string name, bool torch = false)
        {
            var sb = new StringBuilder();
            bool helper = _rng.Next(2) == 0;
            string reduction = C("Mean", "Sum");
            string backends = torch ? ", Backends = Backends.Cpu | Backends.TorchSharp" : string.Empty;
            sb.Append(CultureInfo.InvariantCulture, $"[Loss(Reduction = Reduction.{reduction}{backends})]\npublic static partial class {name}\n{{\n");
            var leaves = new List<string> { "pred", "mask", "pred", "Sigmoid(pred)" };
            if (helper)
            {
                sb.Append(CultureInfo.InvariantCulture, $"    static Field H(Field x, Target mask) => {Field(2, new[] { "x", "x", "mask" })};\n");
                leaves.Add("H(pred, mask)");
                leaves.Add("H(mask, mask)");
            }

            int terms = 1 + _rng.Next(3);
            for (int t = 0; t < terms; t++)
            {
                string weight = C("1", "0.5", "2");
                bool isBatch = _rng.Next(6) == 0;
                if (isBatch)
                {
                    sb.Append(CultureInfo.InvariantCulture, $"    [Term(Weight = {weight})] static Batch T{t}(Logits pred, Target mask) => BatchMean({Field(3, leaves.ToArray())}) + 0.25 * BatchMean(Sigmoid(pred));\n");
                }
                else if (_rng.Next(3) == 0)
                {
                    sb.Append(CultureInfo.InvariantCulture, $"    [Term(Weight = {weight})]\n    static Plane T{t}(Logits pred, Target mask)\n    {{\n        var a = {Field(2, leaves.ToArray())};\n        return {Plane(2, leaves.Append("a").Append("a").ToArray(), batch: true)} + 0.25 * Mean(Sigmoid(pred));\n    }}\n");
                }
                else
                {
                    sb.Append(CultureInfo.InvariantCulture, $"    [Term(Weight = {weight})] static Plane T{t}(Logits pred, Target mask) => {Plane(2, leaves.ToArray(), batch: true)} + 0.25 * Mean(Sigmoid(pred));\n");
                }
            }

            sb.Append("}\n");
            return sb.ToString();
        }
    }

    /// <summary>The driver of one program: the generated entry points behind plain arrays, so reflection can call them.</summary>
    private static string Driver(string name, bool torch)
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $$"""
            public static class {{name}}Driver
            {
                public static double Cpu(double[] p, double[] m, double[] g) => {{name}}.Cpu.Compute(p, m, g, new LossShape({{N}}, {{C}}, {{H}}, {{W}}));
                public static double CpuFloat(float[] p, float[] m, float[] g) => {{name}}.Cpu.Compute(p, m, g, new LossShape({{N}}, {{C}}, {{H}}, {{W}}));
                public static double Reference(double[] p, double[] m) { var s = new LossShape({{N}}, {{C}}, {{H}}, {{W}}); return {{name}}.Reference.Compute(new Logits(s, p), new Target(s, m)); }

            """);
        if (torch)
        {
            sb.Append(CultureInfo.InvariantCulture, $$"""
                    public static double Torch(float[] p, float[] m, float[] g)
                    {
                        using var scope = global::TorchSharp.torch.NewDisposeScope();
                        var shape = new long[] { {{N}}, {{C}}, {{H}}, {{W}} };
                        var pt = global::TorchSharp.torch.tensor(p, shape).requires_grad_(true);
                        var mt = global::TorchSharp.torch.tensor(m, shape);
                        var loss = {{name}}.TorchOps.Compute(pt, mt);
                        loss.backward();
                        pt.grad!.data<float>().CopyTo(g, 0);
                        return loss.item<float>();
                    }

                """);
        }

        sb.Append("}\n");
        return sb.ToString();
    }

    private sealed record Program(int Seed, string Name, string Declaration, bool Torch);

    [Fact]
    public void RandomLosses_MatchTheReferenceAndFiniteDifferences()
    {
        var watch = Stopwatch.StartNew();
        var programs = Enumerable.Range(0, Programs).Select(i => (Seed: BaseSeed + i, Torch: i < TorchSample))
            .Select(x => new Program(x.Seed, "R" + x.Seed.ToString(CultureInfo.InvariantCulture), new Grammar(x.Seed).Declaration("R" + x.Seed.ToString(CultureInfo.InvariantCulture), x.Torch), x.Torch))
            .ToList();
        var failures = new List<string>();
        int checkedCpu = 0, checkedTorch = 0;
        // The TorchSharp sample compiles on its own (with the backend runtimes referenced), the rest in batches.
        var batches = programs.Where(p => p.Torch).Chunk(BatchSize).Concat(programs.Where(p => !p.Torch).Chunk(BatchSize)).Select(c => c.ToList()).ToList();
        foreach (var batch in batches)
        {
            if (failures.Count >= 5)
            {
                break;
            }

            bool torch = batch[0].Torch;
            var assembly = Build(batch, torch, failures);
            if (assembly is null)
            {
                continue;
            }

            for (int i = 0; i < batch.Count && failures.Count < 5; i++)
            {
                var p = batch[i];
                bool withTorch = p.Torch;
                string? problem = Check(assembly.GetType("Random." + p.Name + "Driver")!, p.Seed, withTorch);
                checkedCpu++;
                checkedTorch += withTorch ? 1 : 0;
                if (problem is not null)
                {
                    failures.Add($"seed {p.Seed} (LOSSDSL_RANDOM_SEED={p.Seed} LOSSDSL_RANDOM_PROGRAMS=1 to replay): {problem}\n--- declaration ---\n{p.Declaration}---");
                }
            }
        }

        _out.WriteLine($"{programs.Count} random programs (seeds {BaseSeed}…{BaseSeed + programs.Count - 1}), {checkedCpu} run on the CPU backend, {checkedTorch} on TorchSharp; {watch.Elapsed.TotalSeconds:F1} s");
        Assert.True(failures.Count == 0, string.Join("\n\n", failures));
    }

    private static Assembly? Build(List<Program> batch, bool torch, List<string> failures)
    {
        var source = new StringBuilder("using System;\nusing LossDsl;\nusing static LossDsl.Dsl;\n\nnamespace Random;\n\n");
        var starts = new List<(int Line, Program P)>();
        foreach (var p in batch)
        {
            starts.Add((source.ToString().Count(c => c == '\n'), p));
            source.Append(p.Declaration).Append('\n').Append(Driver(p.Name, torch)).Append('\n');
        }

        var text = source.ToString();
        var compilation = torch ? GeneratorHarness.CompilationWithBackends(text) : GeneratorHarness.Compilation(text);
        Compilation output = null!;
        var driver = SmallStack.Run(() => GeneratorHarness.Driver().RunGeneratorsAndUpdateCompilation(compilation, out output, out _));
        var result = driver.GetRunResult().Results.Single();
        using var pe = new MemoryStream();
        // Emit binds everything once and reports every error: no separate GetDiagnostics pass.
        var emit = result.Exception is null && result.Diagnostics.IsEmpty ? output.Emit(pe) : null;
        var problems = result.Diagnostics.Concat(emit?.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error) ?? Enumerable.Empty<Diagnostic>()).ToList();
        if (result.Exception is not null || problems.Count > 0 || emit is { Success: false })
        {
            Program Owner(Diagnostic d)
            {
                int line = d.Location.GetLineSpan().StartLinePosition.Line;
                return d.Location.GetLineSpan().Path == GeneratorHarness.DefaultPath ? starts.Last(s => s.Line <= line).P : batch[0];
            }

            foreach (var g in problems.GroupBy(Owner).Take(5))
            {
                failures.Add($"seed {g.Key.Seed}: does not compile: {result.Exception}\n{string.Join("\n", g.Take(5))}\n--- declaration ---\n{g.Key.Declaration}---");
            }

            if (problems.Count == 0)
            {
                failures.Add($"batch from seed {batch[0].Seed}: the generator threw {result.Exception}");
            }

            return null;
        }

        pe.Position = 0;
        return new AssemblyLoadContext("random" + batch[0].Seed.ToString(CultureInfo.InvariantCulture), isCollectible: true).LoadFromStream(pe);
    }

    private static string? Check(Type driver, int seed, bool torch)
    {
        var cpu = driver.GetMethod("Cpu")!.CreateDelegate<Func<double[], double[], double[], double>>();
        var cpuFloat = driver.GetMethod("CpuFloat")!.CreateDelegate<Func<float[], float[], float[], double>>();
        var reference = driver.GetMethod("Reference")!.CreateDelegate<Func<double[], double[], double>>();

        var rng = new Random(seed);
        int len = N * C * H * W;
        var pred = Enumerable.Range(0, len).Select(_ => (4 * rng.NextDouble()) - 2).ToArray();
        var mask = Enumerable.Range(0, len).Select(_ => rng.NextDouble()).ToArray();

        double expected = reference(pred, mask);
        if (!double.IsFinite(expected))
        {
            return $"the reference interpreter gives {expected}";
        }

        var grad = new double[len];
        double value = cpu(pred, mask, grad);
        if (!Close(value, expected, 1e-9))
        {
            return $"CPU (double) loss {value:R}, reference {expected:R}";
        }

        double scale = 1 + grad.Max(Math.Abs);
        foreach (int i in Enumerable.Range(0, 6).Select(_ => rng.Next(len)))
        {
            double Fd(double h)
            {
                var plus = (double[])pred.Clone();
                var minus = (double[])pred.Clone();
                plus[i] += h;
                minus[i] -= h;
                return (reference(plus, mask) - reference(minus, mask)) / (2 * h);
            }

            double fd = Fd(1e-5), fd2 = Fd(1e-6);
            if (Math.Abs(fd - fd2) > 1e-5 * scale)
            {
                continue; // a kink (Abs, Clamp, Min, Max) within the step: finite differences say nothing here
            }

            if (Math.Abs(grad[i] - fd) > 1e-6 * scale)
            {
                return $"CPU (double) gradient[{i}] = {grad[i]:R}, finite differences {fd:R}";
            }
        }

        var predF = pred.Select(v => (float)v).ToArray();
        var maskF = mask.Select(v => (float)v).ToArray();
        var gradF = new float[len];
        double valueF = cpuFloat(predF, maskF, gradF);
        if (!Close(valueF, expected, 2e-3))
        {
            return $"CPU (float) loss {valueF:R}, reference {expected:R}";
        }

        for (int i = 0; i < len; i++)
        {
            if (Math.Abs(gradF[i] - grad[i]) > 2e-3 * scale)
            {
                return $"CPU (float) gradient[{i}] = {gradF[i]:R}, double {grad[i]:R}";
            }
        }

        if (torch)
        {
            var torchFn = driver.GetMethod("Torch")!.CreateDelegate<Func<float[], float[], float[], double>>();
            var gradT = new float[len];
            double valueT = torchFn(predF, maskF, gradT);
            if (!Close(valueT, expected, 2e-3))
            {
                return $"TorchSharp loss {valueT:R}, reference {expected:R}";
            }

            for (int i = 0; i < len; i++)
            {
                if (Math.Abs(gradT[i] - grad[i]) > 2e-3 * scale)
                {
                    return $"TorchSharp gradient[{i}] = {gradT[i]:R}, CPU double {grad[i]:R}";
                }
            }
        }

        return null;
    }

    private static bool Close(double a, double b, double tolerance) => Math.Abs(a - b) <= tolerance * (1 + Math.Abs(b));

    [Fact]
    public void Grammar_IsReproducible() =>
        Assert.Equal(new Grammar(BaseSeed).Declaration("X"), new Grammar(BaseSeed).Declaration("X"));
}
