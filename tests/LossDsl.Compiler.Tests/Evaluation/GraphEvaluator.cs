using System;
using LossDsl.Generators.Model;

namespace LossDsl.Compiler.Tests.Evaluation;

/// <summary>
/// A deliberately plain evaluator of the compiler's IR, written from the op semantics (Model/Ir.cs, LossDsl.Scalar and the
/// DSL documentation), independent of every backend and of the scheduler: it evaluates every node of a <see cref="Graph"/>
/// in id order, at its own rank. Field nodes hold N·C·H·W values, Plane nodes N·C, Batch and Scalar nodes one.
/// </summary>
internal sealed class GraphEvaluator
{
    private readonly Graph _graph;
    private readonly LossShape _shape;
    private readonly double[]?[] _inputs;
    private readonly double[] _seeds;
    private readonly double[]?[] _values;

    /// <param name="graph">The graph.</param>
    /// <param name="shape">The batch shape.</param>
    /// <param name="inputs">One array (NCHW) per loss input, in the spec's input order.</param>
    /// <param name="seeds">The per-plane upstream gradient (<see cref="Op.Seed"/>).</param>
    public GraphEvaluator(Graph graph, LossShape shape, double[]?[] inputs, double[] seeds)
    {
        if (seeds.Length != shape.Planes)
        {
            throw new ArgumentException("One seed per plane expected.", nameof(seeds));
        }

        _graph = graph;
        _shape = shape;
        _inputs = inputs;
        _seeds = seeds;
        _values = new double[]?[graph.Count];
    }

    /// <summary>Number of values a node of the rank holds.</summary>
    public int Length(Rank rank) => rank switch
    {
        Rank.Field => _shape.Length,
        Rank.Plane => _shape.Planes,
        _ => 1,
    };

    /// <summary>The value of a node at its own rank (evaluating what it needs, memoised).</summary>
    public double[] Value(int id)
    {
        for (int i = 0; i <= id; i++)
        {
            _values[i] ??= Compute(i);
        }

        return _values[id]!;
    }

    /// <summary>The value of a node broadcast to <paramref name="rank"/> (a Batch value read per plane, a Plane value per pixel).</summary>
    public double[] ValueAt(int id, Rank rank)
    {
        var v = Value(id);
        var own = _graph[id].Rank;
        var r = new double[Length(rank)];
        for (int e = 0; e < r.Length; e++)
        {
            r[e] = v[Index(e, rank, own)];
        }

        return r;
    }

    /// <summary>Where element <paramref name="e"/> of a value of rank <paramref name="rank"/> reads an argument of rank <paramref name="argRank"/>.</summary>
    private int Index(int e, Rank rank, Rank argRank)
    {
        if (argRank > rank)
        {
            throw new InvalidOperationException($"A {argRank} value cannot be read at rank {rank}.");
        }

        return argRank switch
        {
            Rank.Scalar or Rank.Batch => 0,
            Rank.Plane => rank == Rank.Field ? e / _shape.PlaneSize : e,
            _ => e,
        };
    }

    private double[] Compute(int id)
    {
        var n = _graph[id];
        var r = new double[Length(n.Rank)];
        switch (n.Op)
        {
            case Op.Input:
                var data = _inputs[(int)n.Value] ?? throw new InvalidOperationException($"Input {n.Value} was not given.");
                if (data.Length != _shape.Length)
                {
                    throw new ArgumentException($"Input {n.Value} has {data.Length} values; expected {_shape.Length}.");
                }

                Array.Copy(data, r, r.Length);
                return r;
            case Op.Const:
                r[0] = n.Value;
                return r;
            case Op.PlaneSize:
                r[0] = _shape.PlaneSize;
                return r;
            case Op.BatchSize:
                r[0] = _shape.Length;
                return r;
            case Op.Seed:
                Array.Copy(_seeds, r, r.Length);
                return r;
            case Op.AvgPool:
            case Op.MaxPool:
            case Op.MinPool:
                return Pool(n.Op, Arg(n, 0, Rank.Field), n.Kernel);
            case Op.Sum:
            {
                var x = Arg(n, 0, Rank.Field);
                for (int i = 0; i < x.Length; i++)
                {
                    r[i / _shape.PlaneSize] += x[i];
                }

                return r;
            }

            case Op.BatchSum:
            {
                foreach (double v in Arg(n, 0, Rank.Field))
                {
                    r[0] += v;
                }

                return r;
            }

            case Op.PlaneSum:
            {
                foreach (double v in Arg(n, 0, Rank.Plane))
                {
                    r[0] += v;
                }

                return r;
            }
        }

        if (n.Arity == 1)
        {
            var x = Arg(n, 0, n.Rank);
            for (int e = 0; e < r.Length; e++)
            {
                r[e] = Unary(n, x[e]);
            }

            return r;
        }

        if (n.Arity == 2)
        {
            var a = Arg(n, 0, n.Rank);
            var b = Arg(n, 1, n.Rank);
            for (int e = 0; e < r.Length; e++)
            {
                r[e] = Binary(n.Op, a[e], b[e]);
            }

            return r;
        }

        throw new NotSupportedException($"Unknown node {n}.");
    }

    private double[] Arg(Node n, int i, Rank at)
    {
        int id = n.Args[i];
        if (_values[id] is null)
        {
            throw new InvalidOperationException($"Node {n} reads node {id}, which is not computed yet (graph not in topological order).");
        }

        return _graph[id].Rank == at ? _values[id]! : ValueAt(id, at);
    }

    private static double Unary(Node n, double x) => n.Op switch
    {
        Op.Neg => -x,
        Op.Abs => Math.Abs(x),
        Op.Sigmoid => 1 / (1 + Math.Exp(-x)),
        Op.LogSigmoid => -Softplus(-x),
        Op.Softplus => Softplus(x),
        Op.Exp => Math.Exp(x),
        Op.Log => Math.Log(x),
        Op.Sqrt => Math.Sqrt(x),
        Op.Square => x * x,
        Op.Pow => Math.Pow(x, n.Value),
        Op.Clamp => Math.Min(Math.Max(x, n.Value), n.Value2),
        Op.Sign => Math.Sign(x),
        Op.InRange => x >= n.Value && x <= n.Value2 ? 1 : 0,
        _ => throw new NotSupportedException($"Not a unary op: {n}."),
    };

    /// <summary>log(1 + eˣ) = max(x, 0) + log(1 + u), u = e^−|x| ≤ 1; a short series where u is tiny keeps full precision.</summary>
    private static double Softplus(double x)
    {
        double u = Math.Exp(-Math.Abs(x));
        double log1p = u < 1e-4 ? u * (1 - (u * (0.5 - (u * ((1.0 / 3) - (u / 4)))))) : Math.Log(1 + u);
        return Math.Max(x, 0) + log1p;
    }

    private static double Binary(Op op, double a, double b) => op switch
    {
        Op.Add => a + b,
        Op.Sub => a - b,
        Op.Mul => a * b,
        Op.Div => a / b,
        Op.Min => Math.Min(a, b),
        Op.Max => Math.Max(a, b),
        Op.Step => a > b ? 1 : a == b ? 0.5 : 0,

        // Textbook form: −[t·log σ(x) + (1 − t)·log(1 − σ(x))] = softplus(x) − t·x.
        Op.BceWithLogits => Softplus(a) - (a * b),
        _ => throw new NotSupportedException($"Not a binary op: {op}."),
    };

    /// <summary>Stride 1, padding k/2: AvgPool divides the zero-padded window sum by k²; Max/MinPool see only in-image pixels.</summary>
    private double[] Pool(Op op, double[] x, int k)
    {
        var s = _shape;
        var r = new double[x.Length];
        int h = k / 2;
        for (int p = 0; p < s.Planes; p++)
        {
            for (int i = 0; i < s.H; i++)
            {
                for (int j = 0; j < s.W; j++)
                {
                    double sum = 0, max = double.NegativeInfinity, min = double.PositiveInfinity;
                    for (int y = Math.Max(0, i - h); y <= Math.Min(s.H - 1, i + h); y++)
                    {
                        for (int z = Math.Max(0, j - h); z <= Math.Min(s.W - 1, j + h); z++)
                        {
                            double v = x[(p * s.PlaneSize) + (y * s.W) + z];
                            sum += v;
                            max = Math.Max(max, v);
                            min = Math.Min(min, v);
                        }
                    }

                    r[(p * s.PlaneSize) + (i * s.W) + j] = op switch
                    {
                        Op.AvgPool => sum / ((double)k * k),
                        Op.MaxPool => max,
                        _ => min,
                    };
                }
            }
        }

        return r;
    }
}
