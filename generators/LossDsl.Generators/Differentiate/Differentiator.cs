using System.Collections.Generic;
using System.Linq;
using LossDsl.Generators.Lower;
using LossDsl.Generators.Model;

namespace LossDsl.Generators.Differentiate;

/// <summary>The loss with its gradient: for each input, the node of d(Σ_p seed_p · loss_p)/d input (−1 for targets).</summary>
internal sealed record DifferentiatedLoss(LossSpec Spec, Graph Graph, int PlaneLoss, ImmutableEquatableArray<int> Gradients);

/// <summary>
/// Reverse-mode differentiation over the DAG. The seed is the per-plane upstream gradient (<see cref="Op.Seed"/>).
/// Adjoints of reductions broadcast (a per-plane adjoint is read by every pixel of its plane); adjoints reaching a
/// whole-batch value from per-plane users are summed over planes (<see cref="Op.PlaneSum"/>); adjoints reaching a
/// channel-constant per-pixel value (<see cref="Rank.Pixel"/>) are summed over channels (<see cref="Op.SumChannels"/>). Target-only nodes are never
/// differentiated. The builder's simplifications keep the result small.
/// </summary>
internal static class Differentiator
{
    public static DifferentiatedLoss Differentiate(LoweredLoss lowered)
    {
        var spec = lowered.Spec;
        var g = new GraphBuilder(lowered.Graph, spec.Inputs.Select(i => i.Role));
        var adjoint = new Dictionary<int, int>();
        var perChannel = new Dictionary<int, int>();

        void Acc(int child, int contribution)
        {
            var node = g[child];
            if (node.TargetOnly || node.Rank == Rank.Scalar || g.IsConst(contribution, 0))
            {
                return;
            }

            if (node.Rank == Rank.Batch && g[contribution].Rank == Rank.Plane)
            {
                contribution = g.Reduce(Op.PlaneSum, contribution);
            }
            else if (node.Rank == Rank.Pixel && g[contribution].Rank != Rank.Pixel)
            {
                // A channel-constant value is read by every channel of its pixel: its adjoint is the sum over the channels
                // of what each channel's users contribute (a per-plane or whole-batch contribution counts once per channel).
                // Those are added up first and summed over channels once, when the node is reached.
                perChannel[child] = perChannel.TryGetValue(child, out int before) ? g.Binary(Op.Add, before, contribution) : contribution;
                return;
            }

            adjoint[child] = adjoint.TryGetValue(child, out int prev) ? g.Binary(Op.Add, prev, contribution) : contribution;
        }

        Acc(lowered.PlaneLoss, g.Leaf(Op.Seed));
        for (int id = lowered.PlaneLoss; id >= 0; id--)
        {
            if (perChannel.TryGetValue(id, out int varying))
            {
                int total = g.Reduce(Op.SumChannels, varying);
                adjoint[id] = adjoint.TryGetValue(id, out int same) ? g.Binary(Op.Add, same, total) : total;
            }

            if (!adjoint.TryGetValue(id, out int a))
            {
                continue;
            }

            // The rule of each op lives in its row of the op table; piecewise-constant ops, stencils of target-only values
            // and leaves have none.
            var n = g[id];
            OpTable.Get(n.Op).Derivative?.Invoke(g, n, id, a, Acc);
        }

        var gradients = spec.Inputs.Select((input, i) =>
            input.Role == InputRole.Target ? -1 : adjoint.TryGetValue(g.Input(i), out int d) ? d : g.Const(0)).ToEquatable();
        return new DifferentiatedLoss(spec, g.ToGraph(), lowered.PlaneLoss, gradients);
    }
}
