using System.Collections.Generic;
using System.Linq;
using LossDsl.Generators.Emit;
using LossDsl.Generators.Model;
using LossDsl.Generators.Schedule;
using Xunit;

namespace LossDsl.Generators.Tests;

/// <summary>What the scheduler makes of the flagship and a few variants: sweeps, fusion, CSE, target-only work, equality.</summary>
public class ScheduleTests
{
    public static TheoryData<string, string> Flagship => new()
    {
        { Sources.StructureLoss, "LossDsl.Tests.StructureLoss" },
        { Sources.StructureLossAttributes, "LossDsl.Tests.StructureLossAttributes" },
    };

    private static ScheduleSpec Compile(string source, string name) => LossGenerator.Compile(GeneratorHarness.ParseSpec(source, name));

    internal static int[] PhaseSizes(ScheduleSpec s) => new[]
    {
        s.ShapeScalars.Count, s.Stencils.Count, s.ForwardProgram.Count, s.Accumulators.Count, s.BatchForward.Count, s.PlaneProgram.Count,
        s.PlaneSums.Count, s.BatchAdjoint.Count, s.BackwardProgram.Count, s.Gradients.Count, s.SavedPlanes.Count, s.SavedBatch.Count,
    };

    /// <summary>Each phase as a sorted list of node structures (expression trees, commutative arguments sorted): independent of node numbering.</summary>
    internal static string Canonical(ScheduleSpec s)
    {
        var memo = new Dictionary<int, string>();
        string Tree(int id)
        {
            if (memo.TryGetValue(id, out var text))
            {
                return text;
            }

            var n = s.Graph[id];
            var args = n.Args.Select(Tree).ToList();
            if (n.Op is Op.Add or Op.Mul or Op.Min or Op.Max)
            {
                args.Sort(System.StringComparer.Ordinal);
            }

            text = n.Op switch
            {
                Op.Input => s.Spec.Inputs[(int)n.Value].Role + ":" + s.Spec.Inputs[(int)n.Value].Name,
                Op.Const => CodeWriter.Num(n.Value),
                _ => $"{n.Op}[{CodeWriter.Num(n.Value)},{CodeWriter.Num(n.Value2)}]({string.Join(",", args)})",
            };
            return memo[id] = text;
        }

        string Phase(string name, IEnumerable<int> ids) => name + ":\n" + string.Join("\n", ids.Select(Tree).OrderBy(t => t, System.StringComparer.Ordinal));
        return string.Join(
            "\n",
            Phase("loss", new[] { s.PlaneLoss }),
            Phase("shape", s.ShapeScalars),
            Phase("stencils", s.Stencils.Select(x => x.Node)),
            Phase("forward", s.ForwardProgram),
            Phase("accumulators", s.Accumulators),
            Phase("batch", s.BatchForward),
            Phase("plane", s.PlaneProgram),
            Phase("planesums", s.PlaneSums),
            Phase("batchadjoint", s.BatchAdjoint),
            Phase("backward", s.BackwardProgram),
            Phase("gradients", s.Gradients.Select(g => g.Node)),
            Phase("savedplanes", s.SavedPlanes),
            Phase("savedbatch", s.SavedBatch));
    }

    [Theory]
    [MemberData(nameof(Flagship))]
    public void Flagship_OneStencilPrePass_OverTheMask(string source, string name)
    {
        var s = Compile(source, name);
        var stencil = Assert.Single(s.Stencils);
        Assert.Equal(Op.AvgPool, stencil.Kind);
        Assert.Equal(31, stencil.Kernel);
        var src = s.Graph[stencil.Source];
        Assert.Equal(Op.Input, src.Op);
        Assert.Equal(new InputSpec("mask", InputRole.Target), s.Spec.Inputs[(int)src.Value]);
        Assert.Equal(new[] { stencil.Source }, stencil.SourceProgram);
        Assert.Equal(4, s.MemorySweeps); // two separable stencil passes, one forward sweep, one backward sweep
    }

    [Theory]
    [MemberData(nameof(Flagship))]
    public void Flagship_OneForwardSweep_AccumulatesAllFourReductions(string source, string name)
    {
        var s = Compile(source, name);
        Assert.Equal(4, s.Accumulators.Count); // Σ w·bce, Σ w, Σ w·p·mask, Σ w·(p + mask)
        Assert.All(s.Accumulators, a => Assert.Equal(Op.Sum, s.Graph[a].Op));
        Assert.All(s.Accumulators, a => Assert.Contains(s.Graph[a].Args[0], s.ForwardProgram));
        Assert.Empty(s.BatchForward);
        Assert.Empty(s.PlaneSums);
        Assert.Empty(s.BatchAdjoint);
        Assert.Empty(s.SavedBatch);

        // The forward sweep is per-pixel work only; the plane epilogue is per-plane work only.
        Assert.All(s.ForwardProgram, id => Assert.Equal(Rank.Field, s.Graph[id].Rank));
        Assert.All(s.PlaneProgram, id => Assert.Equal(Rank.Plane, s.Graph[id].Rank));
        Assert.Contains(s.PlaneLoss, s.PlaneProgram);
    }

    [Theory]
    [MemberData(nameof(Flagship))]
    public void Flagship_OneBackwardSweep_WritesOnlyTheLogitsGradient(string source, string name)
    {
        var s = Compile(source, name);
        var g = Assert.Single(s.Gradients);
        Assert.Equal(InputRole.Logits, s.Spec.Inputs[g.Input].Role);
        Assert.Equal("pred", s.Spec.Inputs[g.Input].Name);
        Assert.Contains(g.Node, s.BackwardProgram);
        Assert.All(s.BackwardProgram, id => Assert.Equal(Rank.Field, s.Graph[id].Rank));

        // The backward sweep reads the stencil buffer and per-plane values only; it never re-runs a stencil's source.
        Assert.All(s.BackwardProgram, id => Assert.All(s.Graph[id].Args, a => Assert.True(
            s.Graph[a].Rank != Rank.Plane || s.SavedPlanes.Contains(a), $"v{id} reads v{a}, a plane value that is not saved")));
    }

    [Theory]
    [MemberData(nameof(Flagship))]
    public void Flagship_TargetOnlyWork_IsNeverDifferentiated(string source, string name)
    {
        var s = Compile(source, name);
        var g = s.Graph;
        var dependsOnSeed = new bool[g.Count];
        for (int id = 0; id < g.Count; id++)
        {
            dependsOnSeed[id] = g[id].Op == Op.Seed || g[id].Args.Any(a => dependsOnSeed[a]);
        }

        for (int id = 0; id < g.Count; id++)
        {
            if (g[id].Op is Op.AvgPool or Op.MaxPool or Op.MinPool)
            {
                Assert.True(g[id].TargetOnly, $"stencil v{id} is not target-only");
                Assert.False(dependsOnSeed[id], $"stencil v{id} is part of the gradient");
            }

            // No adjoint flows through a stencil (no transposed stencil appears in the gradient).
            if (dependsOnSeed[id])
            {
                Assert.False(g[id].Op is Op.AvgPool or Op.MaxPool or Op.MinPool, $"v{id} is a stencil in the gradient");
            }
        }

        // Differentiation added no stencil: the lowered graph (before the adjoints) has the same single pool.
        var spec = GeneratorHarness.ParseSpec(source, name);
        Assert.Equal(spec.Graph.Nodes.Count(n => n.Op == Op.AvgPool), g.Nodes.Count(n => n.Op == Op.AvgPool));

        // The weight map (every target-only field) is computed from the mask alone.
        Assert.All(Enumerable.Range(0, g.Count).Where(id => g[id].TargetOnly && g[id].Rank == Rank.Field && g[id].Op == Op.Input), id =>
            Assert.Equal(InputRole.Target, s.Spec.Inputs[(int)g[id].Value].Role));
    }

    [Theory]
    [MemberData(nameof(Flagship))]
    public void Flagship_WeightMapAppearsOnce(string source, string name)
    {
        var s = Compile(source, name);
        var g = s.Graph;

        // Used by both terms (and by the backward sweep), built once: one pool, one |pool - mask|, one 1 + 5·|…|.
        Assert.Single(g.Nodes, n => n.Op == Op.AvgPool);
        Assert.Single(g.Nodes, n => n.Op == Op.Abs);
        Assert.Single(g.Nodes, n => n.Op == Op.Sigmoid);
        Assert.Single(g.Nodes, n => n.Op == Op.BceWithLogits);
        Assert.Equal(g.Count, g.Nodes.Distinct().Count());
    }

    [Theory]
    [MemberData(nameof(Flagship))]
    public void Models_AreValueEqual_WhenParsedTwice(string source, string name)
    {
        var a = GeneratorHarness.ParseSpec(source, name);
        var b = GeneratorHarness.ParseSpec(source, name);
        Assert.NotSame(a, b);
        Assert.Equal(a, b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());

        var sa = LossGenerator.Compile(a);
        var sb = LossGenerator.Compile(b);
        Assert.Equal(sa, sb);
        Assert.Equal(sa.GetHashCode(), sb.GetHashCode());
    }

    [Theory]
    [InlineData(Sources.StructureLoss, "LossDsl.Tests.StructureLoss", "AvgPool(mask, 31)", "AvgPool(mask, 29)")]
    [InlineData(Sources.StructureLoss, "LossDsl.Tests.StructureLoss", "5 * Abs", "6 * Abs")]
    [InlineData(Sources.StructureLossAttributes, "LossDsl.Tests.StructureLossAttributes", "Gain = 5", "Gain = 5.5")]
    [InlineData(Sources.StructureLossAttributes, "LossDsl.Tests.StructureLossAttributes", "Smooth = 1", "Smooth = 2")]
    public void Models_Differ_AfterAConstantChanges(string source, string name, string from, string to)
    {
        Assert.Contains(from, source, System.StringComparison.Ordinal);
        var a = GeneratorHarness.ParseSpec(source, name);
        var b = GeneratorHarness.ParseSpec(source.Replace(from, to, System.StringComparison.Ordinal), name);
        Assert.NotEqual(a, b);
        Assert.NotEqual(LossGenerator.Compile(a), LossGenerator.Compile(b));
    }

    private const string Helper = """
        using LossDsl;
        using static LossDsl.Dsl;

        namespace LossDsl.Tests;

        [Loss]
        public static partial class L
        {
            private static Field W(Target m, int k) => 1 + (5 * Abs(AvgPool(m, k) - m));

            [Term]
            private static Plane Bce(Logits pred, Target mask) => WeightedMean(BceWithLogits(pred, mask), W(mask, 31));
        }
        """;

    [Fact]
    public void LocalFunction_CapturingParameters_InlinesLikeAHelper()
    {
        const string local = """
            using LossDsl;
            using static LossDsl.Dsl;

            namespace LossDsl.Tests;

            [Loss]
            public static partial class L
            {
                [Term]
                private static Plane Bce(Logits pred, Target mask)
                {
                    var k = 31;
                    Field W() => 1 + (5 * Abs(AvgPool(mask, k) - mask));
                    return WeightedMean(BceWithLogits(pred, mask), W());
                }
            }
            """;
        Assert.Equal(Canonical(Compile(Helper, "LossDsl.Tests.L")), Canonical(Compile(local, "LossDsl.Tests.L")));
    }

    [Theory]
    [InlineData("W(mask, 31)", 31)]
    [InlineData("W(mask, 62 / 4 * 2 + 1)", 31)] // C# constant folding
    public void HelperWindowParameter_IsConstant(string call, int kernel)
    {
        var s = Compile(Helper.Replace("W(mask, 31)", call, System.StringComparison.Ordinal), "LossDsl.Tests.L");
        Assert.Equal(kernel, Assert.Single(s.Stencils).Kernel);
    }

    [Fact]
    public void IntegerDivisionInAHelper_TruncatesAsInCSharp()
    {
        // k / 4 with k = 62 is 15 in C#; the IR must not see 15.5.
        var source = Helper.Replace("AvgPool(m, k)", "AvgPool(m, k / 4)", System.StringComparison.Ordinal).Replace("W(mask, 31)", "W(mask, 62)", System.StringComparison.Ordinal);
        Assert.Equal(15, Assert.Single(Compile(source, "LossDsl.Tests.L").Stencils).Kernel);
    }

    [Fact]
    public void FusedKernels_ShareTheExponentialOfOneLogit()
    {
        var schedule = LossGenerator.Compile(GeneratorHarness.ParseSpec(Sources.StructureLoss, "LossDsl.Tests.StructureLoss"));
        int Count(Kernels.KernelProgram p, Kernels.KernelRole role, Op op) =>
            p.Kernels.Where(k => k.Domain == Kernels.Domain.Pixels && k.Role == role)
                .SelectMany(k => k.Body).OfType<Kernels.LetStatement>().Count(l => l.Op == op);

        // Forward evaluates σ(pred) and bce(pred, mask): one exp(-|pred|) and one log1p serve both.
        var fused = Kernels.KernelPlanner.Plan(schedule);
        Assert.Equal(1, Count(fused, Kernels.KernelRole.Forward, Op.Exp));
        Assert.Equal(1, Count(fused, Kernels.KernelRole.Forward, Op.Log1p));
        Assert.Equal(1, Count(fused, Kernels.KernelRole.Forward, Op.SigmoidFromExp));
        Assert.Equal(0, Count(fused, Kernels.KernelRole.Forward, Op.Sigmoid) + Count(fused, Kernels.KernelRole.Forward, Op.BceWithLogits));

        // Backward needs σ(pred) only: nothing to share.
        Assert.Equal(1, Count(fused, Kernels.KernelRole.Backward, Op.Sigmoid));
        Assert.Equal(0, Count(fused, Kernels.KernelRole.Backward, Op.Exp));

        // The tensor-op plan keeps one op per function.
        var plain = Kernels.KernelPlanner.Plan(schedule, shareExponentials: false);
        Assert.Equal(1, Count(plain, Kernels.KernelRole.Forward, Op.Sigmoid));
        Assert.Equal(1, Count(plain, Kernels.KernelRole.Forward, Op.BceWithLogits));
        Assert.Equal(0, Count(plain, Kernels.KernelRole.Forward, Op.Exp));
    }
}
