using System;
using System.Collections.Generic;
using LossDsl.Generators.Model;

namespace LossDsl.Generators.Model;

/// <summary>
/// Builds an expression DAG: hash-consed (each distinct expression exists once), with each node's rank and target-only
/// flag, and operations on constants evaluated (the parser needs compile-time values: window sizes, exponents, bounds).
/// This is the expression as declared; the algebraic simplification belongs to lowering (<c>Lower.GraphBuilder</c>).
/// </summary>
internal class DagBuilder : IGraphAlgebra
{
    private readonly List<Node> _nodes = new();
    private readonly Dictionary<Node, int> _index = new();
    private readonly List<InputRole> _roles;

    public DagBuilder(IEnumerable<InputRole> inputRoles) => _roles = new List<InputRole>(inputRoles);

    public DagBuilder()
        : this(System.Array.Empty<InputRole>())
    {
    }

    /// <summary>Declares the next input and returns its index.</summary>
    public int DeclareInput(InputRole role)
    {
        _roles.Add(role);
        return _roles.Count - 1;
    }

    public DagBuilder(Graph graph, IEnumerable<InputRole> inputRoles)
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
        Op.PlaneSize or Op.BatchSize or Op.ChannelCount => Intern(new Node(op, Rank.Scalar, ImmutableEquatableArray<int>.Empty)),
        Op.Seed => Intern(new Node(op, Rank.Plane, ImmutableEquatableArray<int>.Empty)),
        Op.ChannelIndex => Intern(new Node(op, Rank.Plane, ImmutableEquatableArray<int>.Empty)),
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
            case Op.ImageSum:
                return Rank.Plane;
            case Op.BatchSum:
            case Op.PlaneSum:
                return Rank.Batch;
            case Op.AvgPool:
            case Op.MaxPool:
            case Op.MinPool:
                return Rank.Field;
            case Op.SumChannels:
            case Op.LogSumExp:
                return Rank.Pixel;
        }

        var r = Rank.Scalar;
        foreach (int a in args)
        {
            r = Ranks.Join(r, _nodes[a].Rank);
        }

        return r;
    }

    public virtual int Unary(Op op, int x, double value = 0, double value2 = 0)
    {
        if (IsConst(x, out double c) && OpTable.Get(op).Fold is { } fold)
        {
            return Const(fold(c, 0, value, value2));
        }

        return Make(op, ResultRank(op, x)!.Value, new[] { x }, value, value2);
    }

    public virtual int Binary(Op op, int a, int b)
    {
        bool ca = IsConst(a, out double va);
        bool cb = IsConst(b, out double vb);
        if (ca && cb && OpTable.Get(op).Fold is { } fold)
        {
            return Const(fold(va, vb, 0, 0));
        }

        var rank = ResultRank(op, a, b)!.Value;
        return Make(op, rank, new[] { a, b }, 0, 0);
    }

    /// <summary>A ternary op; <see cref="Op.Select"/> with a constant condition is its chosen branch.</summary>
    public virtual int Ternary(Op op, int a, int b, int c)
    {
        if (op == Op.Select && IsConst(a, out double cond))
        {
            return cond != 0 ? b : c;
        }

        return Make(op, ResultRank(op, a, b, c)!.Value, new[] { a, b, c }, 0, 0);
    }

    /// <summary>A reduction of <paramref name="x"/>.</summary>
    public virtual int Reduce(Op op, int x)
    {
        return Make(op, ResultRank(op, x)!.Value, new[] { x }, 0, 0);
    }

    public int Stencil(Op op, int x, int k) => Make(op, Rank.Field, new[] { x }, k, 0);

    protected int Make(Op op, Rank rank, int[] args, double value, double value2)
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
