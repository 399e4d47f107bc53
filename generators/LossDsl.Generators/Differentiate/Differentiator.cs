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
/// whole-batch value from per-plane users are summed over planes (<see cref="Op.PlaneSum"/>). Target-only nodes are never
/// differentiated. The builder's simplifications keep the result small.
/// </summary>
internal static class Differentiator
{
    public static DifferentiatedLoss Differentiate(LoweredLoss lowered)
    {
        var spec = lowered.Spec;
        var g = new GraphBuilder(lowered.Graph, spec.Inputs.Select(i => i.Role));
        var adjoint = new Dictionary<int, int>();

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

            adjoint[child] = adjoint.TryGetValue(child, out int prev) ? g.Binary(Op.Add, prev, contribution) : contribution;
        }

        Acc(lowered.PlaneLoss, g.Leaf(Op.Seed));
        for (int id = lowered.PlaneLoss; id >= 0; id--)
        {
            if (!adjoint.TryGetValue(id, out int a))
            {
                continue;
            }

            var n = g[id];
            int x = n.Arity > 0 ? n.Args[0] : -1;
            int y = n.Arity > 1 ? n.Args[1] : -1;
            int Mul(int p, int q) => g.Binary(Op.Mul, p, q);
            int C(double v) => g.Const(v);
            switch (n.Op)
            {
                case Op.Add:
                    Acc(x, a);
                    Acc(y, a);
                    break;
                case Op.Sub:
                    Acc(x, a);
                    Acc(y, g.Unary(Op.Neg, a));
                    break;
                case Op.Mul:
                    Acc(x, Mul(a, y));
                    Acc(y, Mul(a, x));
                    break;
                case Op.Div:
                    Acc(x, g.Binary(Op.Div, a, y));
                    Acc(y, g.Unary(Op.Neg, Mul(a, g.Binary(Op.Div, id, y))));
                    break;
                case Op.Neg:
                    Acc(x, g.Unary(Op.Neg, a));
                    break;
                case Op.Abs:
                    Acc(x, Mul(a, g.Unary(Op.Sign, x)));
                    break;
                case Op.Sigmoid:
                    Acc(x, Mul(a, Mul(id, g.Binary(Op.Sub, C(1), id))));
                    break;
                case Op.LogSigmoid:
                    Acc(x, Mul(a, g.Unary(Op.Sigmoid, g.Unary(Op.Neg, x))));
                    break;
                case Op.Softplus:
                    Acc(x, Mul(a, g.Unary(Op.Sigmoid, x)));
                    break;
                case Op.Exp:
                    Acc(x, Mul(a, id));
                    break;
                case Op.Log:
                    Acc(x, g.Binary(Op.Div, a, x));
                    break;
                case Op.Sqrt:
                    Acc(x, g.Binary(Op.Div, Mul(C(0.5), a), id));
                    break;
                case Op.Square:
                    Acc(x, Mul(a, Mul(C(2), x)));
                    break;
                case Op.Pow:
                    Acc(x, Mul(a, Mul(C(n.Value), g.Unary(Op.Pow, x, n.Value - 1))));
                    break;
                case Op.Clamp:
                    Acc(x, Mul(a, g.Unary(Op.InRange, x, n.Value, n.Value2)));
                    break;
                case Op.Min:
                    Acc(x, Mul(a, g.Binary(Op.Step, y, x)));
                    Acc(y, Mul(a, g.Binary(Op.Step, x, y)));
                    break;
                case Op.Max:
                    Acc(x, Mul(a, g.Binary(Op.Step, x, y)));
                    Acc(y, Mul(a, g.Binary(Op.Step, y, x)));
                    break;
                case Op.BceWithLogits:
                    Acc(x, Mul(a, g.Binary(Op.Sub, g.Unary(Op.Sigmoid, x), y)));
                    Acc(y, Mul(a, g.Unary(Op.Neg, x)));
                    break;
                case Op.Sum:
                case Op.BatchSum:
                case Op.PlaneSum:
                    Acc(x, a);
                    break;

                // Sign, Step and InRange are piecewise constant; stencils only ever see target-only values; leaves end the walk.
            }
        }

        var gradients = spec.Inputs.Select((input, i) =>
            input.Role == InputRole.Target ? -1 : adjoint.TryGetValue(g.Input(i), out int d) ? d : g.Const(0)).ToEquatable();
        return new DifferentiatedLoss(spec, g.ToGraph(), lowered.PlaneLoss, gradients);
    }
}
