using System.Linq;
using LossDsl.Generators.Model;

namespace LossDsl.Generators.Lower;

/// <summary>A loss after lowering: the graph with the per-plane loss node <c>Σ_t weight_t · term_t</c>.</summary>
internal sealed record LoweredLoss(LossSpec Spec, Graph Graph, int PlaneLoss);

/// <summary>
/// Lowering: combines the terms into the per-plane loss. Constant folding, hash-consing (CSE) and rank inference happen
/// as nodes are built (<see cref="GraphBuilder"/>); target-only subgraphs are marked there too (<see cref="Node.TargetOnly"/>).
/// </summary>
internal static class Lowerer
{
    public static LoweredLoss Lower(LossSpec spec)
    {
        var g = new GraphBuilder(spec.Graph, spec.Inputs.Select(i => i.Role));
        int loss = g.Const(0);
        foreach (var term in spec.Terms)
        {
            loss = g.Binary(Op.Add, loss, g.Binary(Op.Mul, g.Const(term.Weight), term.Root));
        }

        return new LoweredLoss(spec, g.ToGraph(), loss);
    }
}
