using System;
using System.Collections.Generic;
using LossDsl.Generators.Model;

namespace LossDsl.Generators.Lower;

/// <summary>
/// Builds a DAG with hash-consing (each distinct expression exists once), constant folding and the algebraic
/// identities that keep derived gradients small (x·1, x+0, 0·x, −(−x), c₁·(c₂·x)).
/// </summary>
internal sealed class GraphBuilder : IGraphAlgebra
{
    private readonly List<Node> _nodes = new();
    private readonly Dictionary<Node, int> _index = new();
    private readonly List<InputRole> _roles;

    public GraphBuilder(IEnumerable<InputRole> inputRoles) => _roles = new List<InputRole>(inputRoles);

    public GraphBuilder()
        : this(System.Array.Empty<InputRole>())
    {
    }

    /// <summary>Declares the next input and returns its index.</summary>
    public int DeclareInput(InputRole role)
    {
        _roles.Add(role);
        return _roles.Count - 1;
    }

    public GraphBuilder(Graph graph, IEnumerable<InputRole> inputRoles)
        : this(inputRoles)
    {
        foreach (var n in graph.Nodes)
        {
            _index[n] = _nodes.Count;
            _nodes.Add(n);
        }
    }

    public int Count => _nodes.Count;

    public Node this[int id] => _nodes[id];

    public Graph ToGraph() => new(_nodes.ToEquatable());

    public int Input(int index) => Intern(new Node(Op.Input, Rank.Field, ImmutableEquatableArray<int>.Empty, index, 0, _roles[index] == InputRole.Target));

    public int Const(double value) => Intern(new Node(Op.Const, Rank.Scalar, ImmutableEquatableArray<int>.Empty, value == 0 ? 0.0 : value));

    public int Leaf(Op op) => op switch
    {
        Op.PlaneSize or Op.BatchSize => Intern(new Node(op, Rank.Scalar, ImmutableEquatableArray<int>.Empty)),
        Op.Seed => Intern(new Node(op, Rank.Plane, ImmutableEquatableArray<int>.Empty)),
        _ => throw new ArgumentException("Not a leaf: " + op),
    };

    public bool IsConst(int id, out double value)
    {
        var n = _nodes[id];
        value = n.Value;
        return n.Op == Op.Const;
    }

    public bool IsConst(int id, double value) => IsConst(id, out var v) && v == value;

    /// <summary>Rank of an operation's result, or null when the arguments' ranks cannot combine (a per-plane value inside a per-pixel expression).</summary>
    public Rank? ResultRank(Op op, params int[] args)
    {
        switch (op)
        {
            case Op.Sum:
                return Rank.Plane;
            case Op.BatchSum:
            case Op.PlaneSum:
                return Rank.Batch;
            case Op.AvgPool:
            case Op.MaxPool:
            case Op.MinPool:
                return Rank.Field;
        }

        var r = Rank.Scalar;
        foreach (int a in args)
        {
            var ar = _nodes[a].Rank;
            if (ar > r)
            {
                r = ar;
            }
        }

        return r;
    }

    public int Unary(Op op, int x, double value = 0, double value2 = 0)
    {
        if (IsConst(x, out double c) && OpTable.Get(op).Fold is { } fold)
        {
            return Const(fold(c, 0, value, value2));
        }

        var xn = _nodes[x];
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

        return Make(op, ResultRank(op, x)!.Value, new[] { x }, value, value2);
    }

    public int Binary(Op op, int a, int b)
    {
        bool ca = IsConst(a, out double va);
        bool cb = IsConst(b, out double vb);
        if (ca && cb && OpTable.Get(op).Fold is { } fold)
        {
            return Const(fold(va, vb, 0, 0));
        }

        switch (op)
        {
            case Op.Add:
                if (ca && va == 0) return b;
                if (cb && vb == 0) return a;
                if (_nodes[b].Op == Op.Neg) return Binary(Op.Sub, a, _nodes[b].Args[0]);
                if (_nodes[a].Op == Op.Neg) return Binary(Op.Sub, b, _nodes[a].Args[0]);
                if (cb) (a, b) = (b, a); // constants first: c + x
                else if (!ca && b < a) (a, b) = (b, a); // commutative: canonical order
                break;
            case Op.Sub:
                if (cb && vb == 0) return a;
                if (ca && va == 0) return Unary(Op.Neg, b);
                if (a == b) return Const(0);
                if (_nodes[b].Op == Op.Neg) return Binary(Op.Add, a, _nodes[b].Args[0]);
                break;
            case Op.Mul:
                if ((ca && va == 0) || (cb && vb == 0)) return Const(0);
                if (_nodes[a].Op == Op.Neg) return Unary(Op.Neg, Binary(Op.Mul, _nodes[a].Args[0], b));
                if (_nodes[b].Op == Op.Neg) return Unary(Op.Neg, Binary(Op.Mul, a, _nodes[b].Args[0]));
                if (ca && va == 1) return b;
                if (cb && vb == 1) return a;
                if (ca && va == -1) return Unary(Op.Neg, b);
                if (cb && vb == -1) return Unary(Op.Neg, a);
                if (cb) (a, b, ca, va) = (b, a, true, vb);
                else if (!ca && b < a) (a, b) = (b, a);
                if (ca && _nodes[b].Op == Op.Mul && IsConst(_nodes[b].Args[0], out double inner))
                {
                    return Binary(Op.Mul, Const(va * inner), _nodes[b].Args[1]);
                }

                if (!ca && a == b) return Unary(Op.Square, a);
                break;
            case Op.Div:
                if (cb && vb == 1) return a;
                if (_nodes[a].Op == Op.Neg) return Unary(Op.Neg, Binary(Op.Div, _nodes[a].Args[0], b));
                if (_nodes[b].Op == Op.Neg) return Unary(Op.Neg, Binary(Op.Div, a, _nodes[b].Args[0]));
                if (ca && va == 0) return Const(0);
                if (cb && vb != 0) return Binary(Op.Mul, Const(1 / vb), a);
                break;
            case Op.Min:
            case Op.Max:
                if (a == b) return a;
                if (!ca && !cb && b < a) (a, b) = (b, a);
                break;
        }

        var rank = ResultRank(op, a, b)!.Value;
        return Make(op, rank, new[] { a, b }, 0, 0);
    }

    /// <summary>A reduction; a reduction of a constant folds to the constant times the element count.</summary>
    public int Reduce(Op op, int x)
    {
        if (_nodes[x].Rank == Rank.Scalar)
        {
            return op switch
            {
                Op.Sum => Binary(Op.Mul, x, Leaf(Op.PlaneSize)),
                Op.BatchSum => Binary(Op.Mul, x, Leaf(Op.BatchSize)),
                _ => Binary(Op.Mul, x, Binary(Op.Div, Leaf(Op.BatchSize), Leaf(Op.PlaneSize))),
            };
        }

        return Make(op, ResultRank(op, x)!.Value, new[] { x }, 0, 0);
    }

    public int Stencil(Op op, int x, int k) => Make(op, Rank.Field, new[] { x }, k, 0);

    private int Make(Op op, Rank rank, int[] args, double value, double value2)
    {
        bool targetOnly = true;
        foreach (int a in args)
        {
            targetOnly &= _nodes[a].TargetOnly;
        }

        if (op == Op.Seed)
        {
            targetOnly = false;
        }

        return Intern(new Node(op, rank, args.ToEquatable(), value, value2, targetOnly));
    }

    private int Intern(Node node)
    {
        if (_index.TryGetValue(node, out int id))
        {
            return id;
        }

        id = _nodes.Count;
        _nodes.Add(node);
        _index[node] = id;
        return id;
    }
}
