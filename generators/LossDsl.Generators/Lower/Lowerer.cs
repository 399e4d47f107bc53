using System;
using System.Linq;
using LossDsl.Generators.Model;

namespace LossDsl.Generators.Lower;

/// <summary>A loss after lowering: the simplified graph with the per-plane loss node <c>Σ_t weight_t · term_t</c>.</summary>
internal sealed record LoweredLoss(LossSpec Spec, Graph Graph, int PlaneLoss);

/// <summary>
/// Lowering: rebuilds the declared expression DAG through the simplifying <see cref="GraphBuilder"/> — constant folding,
/// the algebraic identities, CSE by hash-consing, ranks and target-only marks recomputed — and combines the terms into the
/// per-plane loss.
/// </summary>
internal static class Lowerer
{
    public static LoweredLoss Lower(LossSpec spec)
    {
        var g = new GraphBuilder(spec.Inputs.Select(i => i.Role));
        var raw = spec.Graph;
        var map = new int[raw.Count];
        for (int id = 0; id < raw.Count; id++)
        {
            var n = raw[id];
            int A(int i) => map[n.Args[i]];
            var row = OpTable.Get(n.Op);
            map[id] = row.Class switch
            {
                OpClass.Leaf => n.Op switch
                {
                    Op.Input => g.Input((int)n.Value),
                    Op.Const => g.Const(n.Value),
                    _ => g.Leaf(n.Op),
                },
                OpClass.Pointwise when n.Arity == 1 => g.Unary(n.Op, A(0), n.Value, n.Value2),
                OpClass.Pointwise when n.Arity == 3 => g.Ternary(n.Op, A(0), A(1), A(2)),
                OpClass.Pointwise => g.Binary(n.Op, A(0), A(1)),
                OpClass.Stencil => g.Stencil(n.Op, A(0), n.Kernel),
                OpClass.Reduction => g.Reduce(n.Op, A(0)),
                _ => throw new InvalidOperationException("Unknown op class " + row.Class),
            };
        }

        var terms = spec.Terms.Select(t => t with { Root = map[t.Root] }).ToEquatable();
        int loss = g.Const(0);
        foreach (var term in terms)
        {
            int value = term.IncludeBackground ? term.Root : g.Binary(Op.Mul, term.Root, Foreground(g, spec.Reduction));
            loss = g.Binary(Op.Add, loss, g.Binary(Op.Mul, g.Const(term.Weight), value));
        }

        var graph = g.ToGraph();
        return new LoweredLoss(spec with { Terms = terms, Graph = graph, Names = spec.RemapNames(id => map[id], graph) }, graph, loss);
    }

    /// <summary>
    /// The factor of a term that skips the background channel: 0 on channel 0; on the others 1, or C/(C − 1) under the
    /// mean over planes, so that the mean over N·C planes is the term's mean over the N·(C − 1) foreground planes. With one
    /// channel there is no background to skip and the factor is 1 (MONAI ignores <c>include_background=False</c> then).
    /// </summary>
    private static int Foreground(GraphBuilder g, ReductionKind reduction)
    {
        int c = g.Leaf(Op.ChannelCount);
        int isForeground = g.Binary(Op.Greater, g.Leaf(Op.ChannelIndex), g.Const(0));
        int scaled = reduction == ReductionKind.Mean
            ? g.Binary(Op.Mul, isForeground, g.Binary(Op.Div, c, g.Binary(Op.Sub, c, g.Const(1))))
            : isForeground;
        return g.Ternary(Op.Select, g.Binary(Op.Greater, c, g.Const(1)), scaled, g.Const(1));
    }
}
