using System;
using System.Collections.Generic;

namespace LossDsl.Generators.Model;

/// <summary>What kind of operation an <see cref="Op"/> is: it decides which stage handles it.</summary>
internal enum OpClass
{
    /// <summary>An input, a constant, a shape quantity or the seed: no arguments.</summary>
    Leaf,

    /// <summary>Applies per element at any rank; its arguments broadcast to the largest rank.</summary>
    Pointwise,

    /// <summary>A window over the pixels of a plane (Field → Field).</summary>
    Stencil,

    /// <summary>A sum over some axes, to a smaller rank.</summary>
    Reduction,
}

/// <summary>
/// The arithmetic the derivative rules build with: the graph builder of the Lower stage implements it, so a rule written here
/// is simplified and hash-consed like any other node.
/// </summary>
internal interface IGraphAlgebra
{
    int Const(double value);

    int Unary(Op op, int x, double k = 0, double k2 = 0);

    int Binary(Op op, int a, int b);

    int Ternary(Op op, int a, int b, int c);
}

/// <summary>
/// A derivative rule: given the node (<paramref name="self"/> is its id) and its adjoint <paramref name="adjoint"/>, calls
/// <paramref name="add"/> with each argument and the contribution the argument receives.
/// </summary>
internal delegate void DerivativeRule(IGraphAlgebra g, Node node, int self, int adjoint, Action<int, int> add);

/// <summary>
/// How one backend spells an operation: a template over <c>{0}</c>, <c>{1}</c> (the arguments), <c>{k}</c>, <c>{k2}</c> (the
/// constant parameters, printed as literals of the backend's element type) and the backend's class placeholders
/// (<c>{M}</c> scalar math, <c>{S}</c> stable scalar helpers, <c>{V}</c> vector type, <c>{VM}</c> vector helpers,
/// <c>{TM}</c> tensor helpers, <c>{F}</c> <c>torch.nn.functional</c>). In a tensor spelling <c>{T0}</c>, <c>{T1}</c> are
/// arguments that must be tensors (a scalar argument is broadcast first).
/// </summary>
internal sealed record Spelling(string Template);

/// <summary>
/// One operation, described once: arity and class, constant folding, derivative rule, plain-math text and the spelling of
/// every backend. Adding an op is a row in <see cref="OpTable"/> (plus its runtime helper where a backend has no primitive).
/// </summary>
internal sealed class OpInfo
{
    public OpInfo(Op op, OpClass cls, int arity)
    {
        Op = op;
        Class = cls;
        Arity = arity;
    }

    public Op Op { get; }

    public OpClass Class { get; }

    /// <summary>Number of graph arguments.</summary>
    public int Arity { get; }

    /// <summary>Number of constant parameters (<see cref="Node.Value"/>, <see cref="Node.Value2"/>).</summary>
    public int Parameters { get; init; }

    /// <summary>The name of the <c>LossDsl.Dsl</c> function that maps onto this op, or null when the op is internal (a derivative or a desugaring).</summary>
    public string? DslName { get; init; }

    /// <summary>Folds constant arguments (a, b, k, k2); null when the op does not fold.</summary>
    public Func<double, double, double, double, double>? Fold { get; init; }

    /// <summary>The reverse-mode rule; null for leaves and piecewise-constant ops (their derivative is zero almost everywhere).</summary>
    public DerivativeRule? Derivative { get; init; }

    /// <summary>Plain math over argument names: the schedule dump and the doc comments (<c>{0} + {1}</c>, <c>sigmoid({0})</c>).</summary>
    public string Text { get; init; } = string.Empty;

    /// <summary>Binding strength of <see cref="Text"/> when arguments are expressions: 1 additive, 2 multiplicative, 3 unary minus, 4 atoms and calls.</summary>
    public int Precedence { get; init; } = 4;

    /// <summary>Scalar C# (<c>float</c> or <c>double</c>): CPU epilogues and tails.</summary>
    public Spelling? Scalar { get; init; }

    /// <summary>SIMD C# over the CPU backend's vector type.</summary>
    public Spelling? Vector { get; init; }

    /// <summary>TorchSharp tensor expression.</summary>
    public Spelling? Tensor { get; init; }

    /// <summary>ILGPU device code (a kernel body: PTX-safe math through <c>LossDsl.Ilgpu.DeviceMath</c>).</summary>
    public Spelling? Device { get; init; }

    /// <summary>True for ops the backends print (pointwise); the others are handled by the stages (stencils, reductions, leaves).</summary>
    public bool IsPrinted => Class == OpClass.Pointwise;
}

/// <summary>The one table of operations (see <see cref="OpInfo"/>).</summary>
internal static class OpTable
{
    private static readonly Dictionary<Op, OpInfo> Rows = new();
    private static readonly Dictionary<string, OpInfo> ByDslName = new(StringComparer.Ordinal);

    static OpTable()
    {
        // Leaves.
        Leaf(Op.Input, string.Empty);
        Leaf(Op.Const, string.Empty);
        Leaf(Op.PlaneSize, "HW");
        Leaf(Op.BatchSize, "NCHW");
        Leaf(Op.ChannelCount, "C");
        Leaf(Op.ChannelIndex, "c");
        Leaf(Op.Seed, "seed");

        // Arithmetic. The CPU vector type and tensors overload the operators, so one spelling serves.
        Add(new OpInfo(Op.Neg, OpClass.Pointwise, 1)
        {
            Fold = (a, _, _, _) => -a,
            Derivative = (g, n, self, a, add) => add(n.Args[0], g.Unary(Op.Neg, a)),
            Text = "-{0}", Precedence = 3,
            Scalar = S("-{0}"), Vector = S("-{0}"), Tensor = S("{0}.neg()"),
        });
        Add(new OpInfo(Op.Add, OpClass.Pointwise, 2)
        {
            Fold = (a, b, _, _) => a + b,
            Derivative = (g, n, self, a, add) =>
            {
                add(n.Args[0], a);
                add(n.Args[1], a);
            },
            Text = "{0} + {1}", Precedence = 1,
            Scalar = S("{0} + {1}"), Vector = S("{0} + {1}"), Tensor = S("{0} + {1}"),
        });
        Add(new OpInfo(Op.Sub, OpClass.Pointwise, 2)
        {
            Fold = (a, b, _, _) => a - b,
            Derivative = (g, n, self, a, add) =>
            {
                add(n.Args[0], a);
                add(n.Args[1], g.Unary(Op.Neg, a));
            },
            Text = "{0} - {1}", Precedence = 1,
            Scalar = S("{0} - {1}"), Vector = S("{0} - {1}"), Tensor = S("{0} - {1}"),
        });
        Add(new OpInfo(Op.Mul, OpClass.Pointwise, 2)
        {
            Fold = (a, b, _, _) => a * b,
            Derivative = (g, n, self, a, add) =>
            {
                add(n.Args[0], g.Binary(Op.Mul, a, n.Args[1]));
                add(n.Args[1], g.Binary(Op.Mul, a, n.Args[0]));
            },
            Text = "{0} * {1}", Precedence = 2,
            Scalar = S("{0} * {1}"), Vector = S("{0} * {1}"), Tensor = S("{0} * {1}"),
        });
        Add(new OpInfo(Op.Div, OpClass.Pointwise, 2)
        {
            Fold = (a, b, _, _) => a / b,
            Derivative = (g, n, self, a, add) =>
            {
                add(n.Args[0], g.Binary(Op.Div, a, n.Args[1]));
                add(n.Args[1], g.Unary(Op.Neg, g.Binary(Op.Mul, a, g.Binary(Op.Div, self, n.Args[1]))));
            },
            Text = "{0} / {1}", Precedence = 2,
            Scalar = S("{0} / {1}"), Vector = S("{0} / {1}"), Tensor = S("{0} / {1}"),
        });

        // Elementary functions.
        Add(new OpInfo(Op.Abs, OpClass.Pointwise, 1)
        {
            DslName = "Abs",
            Fold = (a, _, _, _) => Math.Abs(a),
            Derivative = (g, n, self, a, add) => add(n.Args[0], g.Binary(Op.Mul, a, g.Unary(Op.Sign, n.Args[0]))),
            Text = "|{0}|",
            Scalar = S("{M}.Abs({0})"), Vector = S("{V}.Abs({0})"), Tensor = S("{0}.abs()"),
        });
        Add(new OpInfo(Op.Exp, OpClass.Pointwise, 1)
        {
            DslName = "Exp",
            Fold = (a, _, _, _) => Math.Exp(a),
            Derivative = (g, n, self, a, add) => add(n.Args[0], g.Binary(Op.Mul, a, self)),
            Text = "exp({0})",
            Scalar = S("{M}.Exp({0})"), Vector = S("{V}.Exp({0})"), Tensor = S("{0}.exp()"),
        });
        Add(new OpInfo(Op.Log, OpClass.Pointwise, 1)
        {
            DslName = "Log",
            Fold = (a, _, _, _) => Math.Log(a),
            Derivative = (g, n, self, a, add) => add(n.Args[0], g.Binary(Op.Div, a, n.Args[0])),
            Text = "log({0})",
            Scalar = S("{M}.Log({0})"), Vector = S("{V}.Log({0})"), Tensor = S("{0}.log()"),
        });
        Add(new OpInfo(Op.Log1p, OpClass.Pointwise, 1)
        {
            DslName = "Log1p",
            Fold = (a, _, _, _) => StableMath.Log1p(a),
            Derivative = (g, n, self, a, add) => add(n.Args[0], g.Binary(Op.Div, a, g.Binary(Op.Add, g.Const(1), n.Args[0]))),
            Text = "log1p({0})",
            Scalar = S("{S}.Log1p({0})"), Vector = S("{VM}.Log1p({0})"), Tensor = S("{0}.log1p()"),
        });
        Add(new OpInfo(Op.Sqrt, OpClass.Pointwise, 1)
        {
            DslName = "Sqrt",
            Fold = (a, _, _, _) => Math.Sqrt(a),
            Derivative = (g, n, self, a, add) => add(n.Args[0], g.Binary(Op.Div, g.Binary(Op.Mul, g.Const(0.5), a), self)),
            Text = "sqrt({0})",
            Scalar = S("{M}.Sqrt({0})"), Vector = S("{V}.Sqrt({0})"), Tensor = S("{0}.sqrt()"),
        });
        Add(new OpInfo(Op.Square, OpClass.Pointwise, 1)
        {
            DslName = "Square",
            Fold = (a, _, _, _) => a * a,
            Derivative = (g, n, self, a, add) => add(n.Args[0], g.Binary(Op.Mul, a, g.Binary(Op.Mul, g.Const(2), n.Args[0]))),
            Text = "{0}^2",
            Scalar = S("{0} * {0}"), Vector = S("{0} * {0}"), Tensor = S("{0}.square()"),
        });
        Add(new OpInfo(Op.Pow, OpClass.Pointwise, 1)
        {
            DslName = "Pow", Parameters = 1,
            Fold = (a, _, k, _) => Math.Pow(a, k),
            Derivative = (g, n, self, a, add) => add(n.Args[0], g.Binary(Op.Mul, a, g.Binary(Op.Mul, g.Const(n.Value), g.Unary(Op.Pow, n.Args[0], n.Value - 1)))),
            Text = "{0}^{k}",
            Scalar = S("{M}.Pow({0}, {k})"), Vector = S("{VM}.Pow({0}, {k})"), Tensor = S("{0}.pow({k})"),
        });

        Add(new OpInfo(Op.Tanh, OpClass.Pointwise, 1)
        {
            DslName = "Tanh",
            Fold = (a, _, _, _) => Math.Tanh(a),
            Derivative = (g, n, self, a, add) => add(n.Args[0], g.Binary(Op.Mul, a, g.Binary(Op.Sub, g.Const(1), g.Unary(Op.Square, self)))),
            Text = "tanh({0})",
            Scalar = S("{M}.Tanh({0})"), Vector = S("{VM}.Tanh({0})"), Tensor = S("{0}.tanh()"),
        });
        Add(new OpInfo(Op.Relu, OpClass.Pointwise, 1)
        {
            DslName = "Relu",
            Fold = (a, _, _, _) => a <= 0 ? 0 : a,
            // PyTorch's convention: the gradient is 0 at 0 (the mask is x > 0).
            Derivative = (g, n, self, a, add) => add(n.Args[0], g.Binary(Op.Mul, a, g.Binary(Op.Greater, n.Args[0], g.Const(0)))),
            Text = "relu({0})",
            Scalar = S("{S}.Relu({0})"), Vector = S("{VM}.Relu({0})"), Tensor = S("{0}.relu()"),
        });
        // Stable functions of logits.
        Add(new OpInfo(Op.Sigmoid, OpClass.Pointwise, 1)
        {
            DslName = "Sigmoid",
            Fold = (a, _, _, _) => 1 / (1 + Math.Exp(-a)),
            Derivative = (g, n, self, a, add) => add(n.Args[0], g.Binary(Op.Mul, a, g.Binary(Op.Mul, self, g.Binary(Op.Sub, g.Const(1), self)))),
            Text = "sigmoid({0})",
            Scalar = S("{S}.Sigmoid({0})"), Vector = S("{VM}.Sigmoid({0})"), Tensor = S("{0}.sigmoid()"),
        });
        Add(new OpInfo(Op.SigmoidFromExp, OpClass.Pointwise, 2)
        {
            // Planned, not declared: σ(a) from b = e^-|a|, which the pixel kernel already has (see KernelPlanner). b is a
            // function of a computed beside it, so the whole derivative goes to a.
            Fold = (a, _, _, _) => 1 / (1 + Math.Exp(-a)),
            Derivative = (g, n, self, a, add) => add(n.Args[0], g.Binary(Op.Mul, a, g.Binary(Op.Mul, self, g.Binary(Op.Sub, g.Const(1), self)))),
            Text = "sigmoid({0})",
            Scalar = S("{S}.SigmoidFromExp({0}, {1})"), Vector = S("{VM}.SigmoidFromExp({0}, {1})"), Tensor = S("{TM}.SigmoidFromExp({T0}, {T1})"),
        });
        Add(new OpInfo(Op.LogSigmoid, OpClass.Pointwise, 1)
        {
            DslName = "LogSigmoid",
            Fold = (a, _, _, _) => Math.Min(a, 0) - StableMath.Log1p(Math.Exp(-Math.Abs(a))),
            Derivative = (g, n, self, a, add) => add(n.Args[0], g.Binary(Op.Mul, a, g.Unary(Op.Sigmoid, g.Unary(Op.Neg, n.Args[0])))),
            Text = "logsigmoid({0})",
            Scalar = S("{S}.LogSigmoid({0})"), Vector = S("{VM}.LogSigmoid({0})"), Tensor = S("{F}.logsigmoid({0})"),
        });
        Add(new OpInfo(Op.Softplus, OpClass.Pointwise, 1)
        {
            DslName = "Softplus",
            Fold = (a, _, _, _) => Math.Max(a, 0) + StableMath.Log1p(Math.Exp(-Math.Abs(a))),
            Derivative = (g, n, self, a, add) => add(n.Args[0], g.Binary(Op.Mul, a, g.Unary(Op.Sigmoid, n.Args[0]))),
            Text = "softplus({0})",
            Scalar = S("{S}.Softplus({0})"), Vector = S("{VM}.Softplus({0})"), Tensor = S("{F}.softplus({0})"),
        });
        Add(new OpInfo(Op.BceWithLogits, OpClass.Pointwise, 2)
        {
            DslName = "BceWithLogits",
            Fold = (x, t, _, _) => Math.Max(x, 0) - (x * t) + StableMath.Log1p(Math.Exp(-Math.Abs(x))),
            Derivative = (g, n, self, a, add) =>
            {
                add(n.Args[0], g.Binary(Op.Mul, a, g.Binary(Op.Sub, g.Unary(Op.Sigmoid, n.Args[0]), n.Args[1])));
                add(n.Args[1], g.Binary(Op.Mul, a, g.Unary(Op.Neg, n.Args[0])));
            },
            Text = "bce_with_logits({0}, {1})",
            Scalar = S("{S}.BceWithLogits({0}, {1})"), Vector = S("{VM}.BceWithLogits({0}, {1})"), Tensor = S("{TM}.BceWithLogits({T0}, {T1})"),
        });

        // Piecewise ops and their derivatives (PyTorch's subgradient conventions: abs'(0) = 0, ties of min/max split ½/½,
        // clamp passes the gradient on the closed interval).
        Add(new OpInfo(Op.Min, OpClass.Pointwise, 2)
        {
            DslName = "Min",
            Fold = (a, b, _, _) => Math.Min(a, b),
            Derivative = (g, n, self, a, add) =>
            {
                add(n.Args[0], g.Binary(Op.Mul, a, g.Binary(Op.Step, n.Args[1], n.Args[0])));
                add(n.Args[1], g.Binary(Op.Mul, a, g.Binary(Op.Step, n.Args[0], n.Args[1])));
            },
            Text = "min({0}, {1})",
            Scalar = S("{M}.Min({0}, {1})"), Vector = S("{V}.Min({0}, {1})"), Tensor = S("{TM}.Min({0}, {1})"),
        });
        Add(new OpInfo(Op.Max, OpClass.Pointwise, 2)
        {
            DslName = "Max",
            Fold = (a, b, _, _) => Math.Max(a, b),
            Derivative = (g, n, self, a, add) =>
            {
                add(n.Args[0], g.Binary(Op.Mul, a, g.Binary(Op.Step, n.Args[0], n.Args[1])));
                add(n.Args[1], g.Binary(Op.Mul, a, g.Binary(Op.Step, n.Args[1], n.Args[0])));
            },
            Text = "max({0}, {1})",
            Scalar = S("{M}.Max({0}, {1})"), Vector = S("{V}.Max({0}, {1})"), Tensor = S("{TM}.Max({0}, {1})"),
        });
        Add(new OpInfo(Op.Clamp, OpClass.Pointwise, 1)
        {
            DslName = "Clamp", Parameters = 2,
            Fold = (a, _, lo, hi) => a < lo ? lo : a > hi ? hi : a,
            Derivative = (g, n, self, a, add) => add(n.Args[0], g.Binary(Op.Mul, a, g.Unary(Op.InRange, n.Args[0], n.Value, n.Value2))),
            Text = "clamp({0}, {k}, {k2})",
            Scalar = S("{S}.Clamp({0}, {k}, {k2})"), Vector = S("{VM}.Clamp({0}, {k}, {k2})"), Tensor = S("{0}.clamp({k}, {k2})"),
        });
        Add(new OpInfo(Op.Sign, OpClass.Pointwise, 1)
        {
            Fold = (a, _, _, _) => a > 0 ? 1 : a < 0 ? -1 : a,
            Text = "sign({0})",
            Scalar = S("{S}.Sign({0})"), Vector = S("{VM}.Sign({0})"), Tensor = S("{0}.sign()"),
        });
        Add(new OpInfo(Op.Step, OpClass.Pointwise, 2)
        {
            Fold = (a, b, _, _) => a > b ? 1 : a == b ? 0.5 : 0,
            Text = "step({0} > {1})",
            Scalar = S("{S}.Step({0}, {1})"), Vector = S("{VM}.Step({0}, {1})"), Tensor = S("{TM}.Step({0}, {1})"),
        });
        Add(new OpInfo(Op.InRange, OpClass.Pointwise, 1)
        {
            Parameters = 2,
            Fold = (a, _, lo, hi) => a >= lo && a <= hi ? 1 : 0,
            Text = "[{k} <= {0} <= {k2}]",
            Scalar = S("{S}.InRange({0}, {k}, {k2})"), Vector = S("{VM}.InRange({0}, {k}, {k2})"), Tensor = S("{TM}.InRange({0}, {k}, {k2})"),
        });

        // Stencils and reductions: placed by the scheduler, printed by each backend's host code.
        // Comparisons (0/1 masks, zero derivative) and the selection they feed.
        Add(new OpInfo(Op.Greater, OpClass.Pointwise, 2)
        {
            DslName = "Greater",
            Fold = (a, b, _, _) => a > b ? 1 : 0,
            Text = "[{0} > {1}]",
            Scalar = S("{S}.Greater({0}, {1})"), Vector = S("{VM}.Greater({0}, {1})"), Tensor = S("{TM}.Greater({T0}, {T1})"),
        });
        Add(new OpInfo(Op.Less, OpClass.Pointwise, 2)
        {
            DslName = "Less",
            Fold = (a, b, _, _) => a < b ? 1 : 0,
            Text = "[{0} < {1}]",
            Scalar = S("{S}.Less({0}, {1})"), Vector = S("{VM}.Less({0}, {1})"), Tensor = S("{TM}.Less({T0}, {T1})"),
        });
        Add(new OpInfo(Op.Select, OpClass.Pointwise, 3)
        {
            // A constant condition folds by choosing its branch (DagBuilder.Ternary); the unchosen branch is never
            // evaluated into the result, so a NaN or ∞ there does not leak (torch.where's semantics).
            DslName = "Where",
            Derivative = (g, n, self, a, add) =>
            {
                add(n.Args[1], g.Ternary(Op.Select, n.Args[0], a, g.Const(0)));
                add(n.Args[2], g.Ternary(Op.Select, n.Args[0], g.Const(0), a));
            },
            Text = "where({0}, {1}, {2})",
            Scalar = S("{S}.Select({0}, {1}, {2})"), Vector = S("{VM}.Select({0}, {1}, {2})"), Tensor = S("{TM}.Select({T0}, {T1}, {T2})"),
        });

        Add(new OpInfo(Op.AvgPool, OpClass.Stencil, 1) { DslName = "AvgPool", Parameters = 1, Text = "avg_pool{k}({0})" });
        Add(new OpInfo(Op.MaxPool, OpClass.Stencil, 1) { DslName = "MaxPool", Parameters = 1, Text = "max_pool{k}({0})" });
        Add(new OpInfo(Op.MinPool, OpClass.Stencil, 1) { DslName = "MinPool", Parameters = 1, Text = "min_pool{k}({0})" });
        DerivativeRule passThrough = (g, n, self, a, add) => add(n.Args[0], a);
        Add(new OpInfo(Op.Sum, OpClass.Reduction, 1) { DslName = "Sum", Derivative = passThrough, Text = "Σ_hw {0}", Precedence = 1 });
        Add(new OpInfo(Op.BatchSum, OpClass.Reduction, 1) { Derivative = passThrough, Text = "Σ_nchw {0}", Precedence = 1 });
        Add(new OpInfo(Op.PlaneSum, OpClass.Reduction, 1) { Derivative = passThrough, Text = "Σ_nc {0}", Precedence = 1 });

        // y[n, c] = Σ_n' x[n', c] for every n: the adjoint of x[n', c] is Σ_n a[n, c], the same sum of the adjoint.
        Add(new OpInfo(Op.ImageSum, OpClass.Reduction, 1) { Derivative = (g, n, self, a, add) => add(n.Args[0], g.Unary(Op.ImageSum, a)), Text = "Σ_n {0}", Precedence = 1 });

        // Over the channels of each pixel, broadcast back over them (PyTorch's dim=1, keepdim=True). The differentiator sums
        // the adjoint a channel-constant value receives from its per-channel users over the channels (SumChannels), so
        // the rules see the total.
        Add(new OpInfo(Op.SumChannels, OpClass.Reduction, 1) { DslName = "SumOverChannels", Derivative = passThrough, Text = "Σ_c({0})" });
        Add(new OpInfo(Op.LogSumExp, OpClass.Reduction, 1)
        {
            DslName = "LogSumExp",

            // d lse / d x_c = softmax_c = e^(x_c - lse)
            Derivative = (g, n, self, a, add) => add(n.Args[0], g.Binary(Op.Mul, a, g.Unary(Op.Exp, g.Binary(Op.Sub, n.Args[0], self)))),
            Text = "logsumexp_c({0})",
        });
    }

    /// <summary>Every op, in declaration order of <see cref="Op"/>.</summary>
    public static IEnumerable<OpInfo> All
    {
        get
        {
            foreach (Op op in Enum.GetValues(typeof(Op)))
            {
                yield return Rows[op];
            }
        }
    }

    public static OpInfo Get(Op op) => Rows[op];

    /// <summary>The op a one-to-one <c>LossDsl.Dsl</c> function maps onto, or null.</summary>
    public static OpInfo? FromDsl(string name) => ByDslName.TryGetValue(name, out var row) ? row : null;

    private static Spelling S(string template) => new(template);

    private static void Leaf(Op op, string text) => Add(new OpInfo(op, OpClass.Leaf, 0) { Text = text });

    private static void Add(OpInfo row)
    {
        Rows.Add(row.Op, row);
        if (row.DslName is { } name)
        {
            ByDslName.Add(name, row);
        }
    }
}

/// <summary>Numerically careful scalar math for constant folding (the generator cannot reference the runtime).</summary>
internal static class StableMath
{
    /// <summary><c>log(1 + x)</c>, accurate for small x.</summary>
    public static double Log1p(double x)
    {
        double u = 1.0 + x;
        return u == 1.0 ? x : Math.Log(u) * x / (u - 1.0);
    }
}
