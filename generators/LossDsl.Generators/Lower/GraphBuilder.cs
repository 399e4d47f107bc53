using System.Collections.Generic;
using LossDsl.Generators.Model;

namespace LossDsl.Generators.Lower;

/// <summary>
/// The lowering's DAG builder: a <see cref="DagBuilder"/> that also applies the algebraic identities which keep derived
/// gradients small (x·1, x+0, 0·x, −(−x), c₁·(c₂·x), constants first and a canonical order in commutative ops, x·x as a
/// square, a reduction of a constant as the constant times the element count), so simplification and CSE happen by
/// construction.
/// </summary>
internal sealed class GraphBuilder : DagBuilder
{
    public GraphBuilder(IEnumerable<InputRole> inputRoles)
        : base(inputRoles)
    {
    }

    public GraphBuilder(Graph graph, IEnumerable<InputRole> inputRoles)
        : base(graph, inputRoles)
    {
    }

    public override int Unary(Op op, int x, double value = 0, double value2 = 0)
    {
        if (op == Op.ImageSum)
        {
            // Built by a derivative rule (the adjoint of a per-class batch sum): a reduction, simplified as one.
            return Reduce(op, x);
        }

        if (IsConst(x, out _))
        {
            return base.Unary(op, x, value, value2);
        }

        var xn = this[x];
        switch (op)
        {
            case Op.Neg when xn.Op == Op.Neg:
                return xn.Args[0];
            case Op.Neg when xn.Op == Op.Sub:
                return Binary(Op.Sub, xn.Args[1], xn.Args[0]);
            case Op.Neg when xn.Op == Op.Mul && IsConst(xn.Args[0], out double k):
                return Binary(Op.Mul, Const(-k), xn.Args[1]);
            case Op.Pow when value == 1:
                return x;
            case Op.Pow when value == 2:
                op = Op.Square;
                value = 0;
                break;
            case Op.Pow when value == 0:
                return Const(1);
            case Op.Abs when xn.Op is Op.Abs or Op.Square or Op.Exp or Op.Sigmoid or Op.Softplus:
                return x;
        }

        return base.Unary(op, x, value, value2);
    }

    public override int Binary(Op op, int a, int b)
    {
        bool ca = IsConst(a, out double va);
        bool cb = IsConst(b, out double vb);
        if (ca && cb)
        {
            return base.Binary(op, a, b);
        }

        switch (op)
        {
            case Op.Add:
                if (ca && va == 0) return b;
                if (cb && vb == 0) return a;
                if (this[b].Op == Op.Neg) return Binary(Op.Sub, a, this[b].Args[0]);
                if (this[a].Op == Op.Neg) return Binary(Op.Sub, b, this[a].Args[0]);
                if (cb) (a, b) = (b, a); // constants first: c + x
                else if (!ca && b < a) (a, b) = (b, a); // commutative: canonical order
                break;
            case Op.Sub:
                if (cb && vb == 0) return a;
                if (ca && va == 0) return Unary(Op.Neg, b);
                if (a == b) return Const(0);
                if (this[b].Op == Op.Neg) return Binary(Op.Add, a, this[b].Args[0]);
                break;
            case Op.Mul:
                if ((ca && va == 0) || (cb && vb == 0)) return Const(0);
                if (this[a].Op == Op.Neg) return Unary(Op.Neg, Binary(Op.Mul, this[a].Args[0], b));
                if (this[b].Op == Op.Neg) return Unary(Op.Neg, Binary(Op.Mul, a, this[b].Args[0]));
                if (ca && va == 1) return b;
                if (cb && vb == 1) return a;
                if (ca && va == -1) return Unary(Op.Neg, b);
                if (cb && vb == -1) return Unary(Op.Neg, a);
                if (cb) (a, b, ca, va) = (b, a, true, vb);
                else if (!ca && b < a) (a, b) = (b, a);
                if (ca && this[b].Op == Op.Mul && IsConst(this[b].Args[0], out double inner))
                {
                    return Binary(Op.Mul, Const(va * inner), this[b].Args[1]);
                }

                if (!ca && a == b) return Unary(Op.Square, a);
                break;
            case Op.Div:
                if (cb && vb == 1) return a;
                if (this[a].Op == Op.Neg) return Unary(Op.Neg, Binary(Op.Div, this[a].Args[0], b));
                if (this[b].Op == Op.Neg) return Unary(Op.Neg, Binary(Op.Div, a, this[b].Args[0]));
                if (ca && va == 0) return Const(0);
                if (cb && vb != 0) return Binary(Op.Mul, Const(1 / vb), a);
                break;
            case Op.Min:
            case Op.Max:
                if (a == b) return a;
                if (!ca && !cb && b < a) (a, b) = (b, a);
                break;
        }

        return base.Binary(op, a, b);
    }

    /// <summary>A reduction; a reduction of a constant folds to the constant times the element count.</summary>
    public override int Reduce(Op op, int x)
    {
        if (op == Op.ImageSum && this[x].Rank is Rank.Scalar or Rank.Batch)
        {
            // The same value in every image: N times it, N = NCHW / (HW · C).
            return Binary(Op.Mul, x, Binary(Op.Div, Leaf(Op.BatchSize), Binary(Op.Mul, Leaf(Op.PlaneSize), Leaf(Op.ChannelCount))));
        }

        if (this[x].Rank == Rank.Scalar)
        {
            return op switch
            {
                Op.Sum => Binary(Op.Mul, x, Leaf(Op.PlaneSize)),
                Op.BatchSum => Binary(Op.Mul, x, Leaf(Op.BatchSize)),
                Op.SumChannels => Binary(Op.Mul, x, Leaf(Op.ChannelCount)),
                Op.LogSumExp => Binary(Op.Add, x, Unary(Op.Log, Leaf(Op.ChannelCount))),
                _ => Binary(Op.Mul, x, Binary(Op.Div, Leaf(Op.BatchSize), Leaf(Op.PlaneSize))),
            };
        }

        return base.Reduce(op, x);
    }
}
