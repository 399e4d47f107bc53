using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace LossDsl.Generators.Model;

/// <summary>The operations of the loss IR. Pointwise ops apply per element at any rank.</summary>
internal enum Op
{
    // leaves
    Input,       // Value = input index
    Const,       // Value = the constant
    PlaneSize,   // H*W (scalar)
    BatchSize,   // N*C*H*W (scalar)
    ChannelCount, // C (scalar)
    ChannelIndex, // the plane's channel c (Plane, target-only): terms that skip the background channel
    Seed,        // per-plane upstream gradient of the plane loss (Plane)

    // unary pointwise
    Neg,
    Abs,
    Sigmoid,
    LogSigmoid,
    Softplus,
    Exp,
    Log,
    Log1p,
    Sqrt,
    Square,
    Pow,         // Value = exponent
    Tanh,
    Relu,
    Clamp,       // Value = lo, Value2 = hi
    Sign,        // derivative of Abs
    InRange,     // 1 where Value <= x <= Value2 (derivative of Clamp)

    // binary pointwise
    Add,
    Sub,
    Mul,
    Div,
    SigmoidFromExp, // σ(a) given b = e^-|a| (kernel-level: the planner shares the exponential)
    Min,
    Max,
    Step,        // 1 where a > b, 0.5 where equal, else 0 (derivative of Min/Max)
    BceWithLogits,
    Greater,     // 1 where a > b, else 0 (piecewise constant)
    Less,        // 1 where a < b, else 0 (piecewise constant)

    // ternary pointwise
    Select,      // b where a ≠ 0, else c (torch.where with a 0/1 condition)

    // stencils (Field -> Field), Value = odd kernel size
    AvgPool,
    MaxPool,
    MinPool,

    // reductions
    Sum,         // Field -> Plane: sum over the plane's pixels
    BatchSum,    // Field -> Batch: sum over every element
    PlaneSum,    // Plane -> Batch: sum over planes (appears in adjoints only)
    ImageSum,    // Plane -> Plane: sum over the images of each channel, the same value for every image (per-class batch sums)
    SumChannels, // Field (or Plane, Batch) -> Pixel: sum over the channels of each pixel, broadcast back over them
    LogSumExp,   // Field -> Pixel: log Σ_c exp(x_c) over the channels of each pixel (stable), broadcast back over them
}

/// <summary>What a value varies over.</summary>
internal enum Rank
{
    /// <summary>A compile-time or shape constant.</summary>
    Scalar = 0,

    /// <summary>One value for the whole batch.</summary>
    Batch = 1,

    /// <summary>One value per (n, c) plane.</summary>
    Plane = 2,

    /// <summary>One value per pixel of an image, the same for every channel (a reduction over channels, broadcast back).</summary>
    Pixel = 3,

    /// <summary>One value per pixel of every plane.</summary>
    Field = 4,
}

/// <summary>Helpers over <see cref="Rank"/>.</summary>
internal static class Ranks
{
    /// <summary>True for values that vary over pixels (<see cref="Rank.Field"/> and <see cref="Rank.Pixel"/>): they live in pixel kernels.</summary>
    public static bool IsPerPixel(this Rank r) => r >= Rank.Pixel;

    /// <summary>
    /// The rank of a pointwise combination: the larger, except that a per-channel-constant <see cref="Rank.Pixel"/> value
    /// combined with a per-plane value varies over everything (<see cref="Rank.Field"/>).
    /// </summary>
    public static Rank Join(Rank a, Rank b)
    {
        if ((a == Rank.Pixel && b == Rank.Plane) || (a == Rank.Plane && b == Rank.Pixel))
        {
            return Rank.Field;
        }

        return a > b ? a : b;
    }
}

/// <summary>The role of a loss input.</summary>
internal enum InputRole
{
    Logits,
    Target,
}

/// <summary>One node of the expression DAG; its id is its index in <see cref="Graph.Nodes"/>.</summary>
internal sealed record Node(Op Op, Rank Rank, ImmutableEquatableArray<int> Args, double Value = 0, double Value2 = 0, bool TargetOnly = true)
{
    public int Arity => Args.Count;

    public int Kernel => (int)Value;

    public override string ToString() => Op switch
    {
        Op.Const => Value.ToString("R", CultureInfo.InvariantCulture),
        Op.Input => "in" + ((int)Value).ToString(CultureInfo.InvariantCulture),
        Op.Pow or Op.AvgPool or Op.MaxPool or Op.MinPool => $"{Op}[{Value.ToString("R", CultureInfo.InvariantCulture)}]({string.Join(", ", Args)})",
        Op.Clamp or Op.InRange => $"{Op}[{Value.ToString("R", CultureInfo.InvariantCulture)}, {Value2.ToString("R", CultureInfo.InvariantCulture)}]({string.Join(", ", Args)})",
        _ => Args.Count == 0 ? Op.ToString() : $"{Op}({string.Join(", ", Args)})",
    };
}

/// <summary>A hash-consed DAG in topological order (arguments precede their users).</summary>
internal sealed record Graph(ImmutableEquatableArray<Node> Nodes)
{
    public Node this[int id] => Nodes[id];

    public int Count => Nodes.Count;

    /// <summary>Marks every node reachable from <paramref name="roots"/> (an explicit stack: no recursion, whatever the depth).</summary>
    public bool[] Reachable(IEnumerable<int> roots)
    {
        var seen = new bool[Count];
        var stack = new Stack<int>(roots);
        while (stack.Count > 0)
        {
            int id = stack.Pop();
            if (!seen[id])
            {
                seen[id] = true;
                foreach (int a in this[id].Args)
                {
                    stack.Push(a);
                }
            }
        }

        return seen;
    }
}

/// <summary>A loss input as declared.</summary>
internal sealed record InputSpec(string Name, InputRole Role) : IEquatable<InputSpec>;

/// <summary>
/// A term: the declared name, the root node of its value, its weight, whether it is a whole-batch value, and the call
/// that evaluates it with the reference interpreter.
/// </summary>
internal sealed record TermSpec(string Name, int Root, double Weight, bool IsBatch, ReferenceCall Reference)
{
    /// <summary>
    /// False when the term skips channel 0 (MONAI's <c>include_background=False</c>, nnU-Net's <c>do_bg=False</c>): it adds
    /// nothing to the background planes, and under <see cref="ReductionKind.Mean"/> its mean is over the other channels.
    /// </summary>
    public bool IncludeBackground { get; init; } = true;
}

/// <summary>Whose method a <see cref="ReferenceCall"/> calls.</summary>
internal enum CallOwner
{
    /// <summary>A method of the loss class itself (a declared term).</summary>
    LossClass,

    /// <summary>A function of <c>LossDsl.Prelude</c> (an attribute term or the boundary weight).</summary>
    Prelude,

    /// <summary>A helper of the generated reference class (<c>Ones(like)</c>: a field of ones shaped like an input).</summary>
    Reference,
}

/// <summary>
/// A call of a DSL method evaluated by the reference interpreter: the term as declared, for the reference entry point
/// to call with the interpreter's values. <see cref="Method"/> is the identifier as C# spells it (a keyword keeps its
/// <c>@</c>); Emit prints the call.
/// </summary>
internal sealed record ReferenceCall(CallOwner Owner, string Method, ImmutableEquatableArray<ReferenceArg> Args);

/// <summary>An argument of a <see cref="ReferenceCall"/>.</summary>
internal abstract record ReferenceArg
{
    private ReferenceArg()
    {
    }

    /// <summary>A declared input, by name (the reference entry point's parameter of that name).</summary>
    public sealed record Input(string Name) : ReferenceArg;

    /// <summary>A constant; <paramref name="Integer"/> when the parameter is an <c>int</c>.</summary>
    public sealed record Number(double Value, bool Integer) : ReferenceArg;

    /// <summary>The value of another call.</summary>
    public sealed record Nested(ReferenceCall Call) : ReferenceArg;
}

/// <summary>
/// A type that contains the loss class, outermost first: its name as C# must spell it (<c>@struct</c> for a keyword), its
/// kind keyword (<c>class</c>, <c>struct</c>, <c>record</c>, <c>record struct</c>, <c>interface</c>) and the modifiers the
/// generated part repeats (<c>static</c>; a <c>file</c> type never reaches the model: the parser rejects it).
/// </summary>
internal sealed record ContainingType(string Identifier, string Keyword, ImmutableEquatableArray<string> Modifiers)
{
    /// <summary>The name as declared, without a verbatim <c>@</c>.</summary>
    public string Name => Identifier.TrimStart('@');

    /// <summary>The header of the generated part, e.g. <c>static partial class Outer</c>.</summary>
    public string Declaration => string.Concat(Modifiers.Select(m => m + " ")) + "partial " + Keyword + " " + Identifier;
}

/// <summary>
/// Where the generated partial class lives. <see cref="Namespace"/> and <see cref="Identifier"/> are spelled as C# must
/// spell them (<c>@if.@event</c>, <c>@class</c>); <see cref="FullName"/> and <see cref="HintPrefix"/> use the plain names.
/// </summary>
internal sealed record TypeTarget(string? Namespace, string Identifier, string Accessibility, ImmutableEquatableArray<ContainingType> ContainingTypes)
{
    /// <summary>The class name as declared, without a verbatim <c>@</c>.</summary>
    public string Name => Identifier.TrimStart('@');

    /// <summary>Dotted plain name, e.g. <c>Ns.Outer.Loss</c>.</summary>
    public string FullName => (Namespace is null ? string.Empty : Plain(Namespace) + ".") + string.Concat(ContainingTypes.Select(c => c.Name + ".")) + Name;

    /// <summary>The name as C# code refers to it, without <c>global::</c>, e.g. <c>@if.@struct.@class</c>.</summary>
    public string CodeName => (Namespace is null ? string.Empty : Namespace + ".") + string.Concat(ContainingTypes.Select(c => c.Identifier + ".")) + Identifier;

    /// <summary>The prefix of generated file names: the plain full name (hint names may not contain <c>@</c>).</summary>
    public string HintPrefix => FullName;

    private static string Plain(string dotted) => string.Join(".", dotted.Split('.').Select(s => s.TrimStart('@')));
}

/// <summary>The generators a spec asks for after resolving <c>Backends.Auto</c> against the compilation.</summary>
[Flags]
internal enum BackendSet
{
    None = 0,
    Cpu = 1,
    TorchSharp = 2,
    Ilgpu = 4,
}

/// <summary>Reduction over planes, mirroring <c>LossDsl.Reduction</c>.</summary>
internal enum ReductionKind
{
    Mean = 0,
    Sum = 1,
    None = 2,
}

/// <summary>How a node got its name: the order of preference when several apply.</summary>
internal enum NameKind
{
    /// <summary>A local variable of the declaration or of a helper it calls (<c>var p = Sigmoid(pred);</c>).</summary>
    Local,

    /// <summary>A parameter of a helper bound to a computed value (the prelude's <c>weight</c>).</summary>
    Parameter,

    /// <summary>A helper call as the user wrote it (<c>Weight(mask)</c>).</summary>
    Call,
}

/// <summary>
/// The name the user gave a node: the loss card and the generated kernels call the value by it. <paramref name="Name"/> is
/// an identifier for <see cref="NameKind.Local"/> and <see cref="NameKind.Parameter"/>, the call's text for
/// <see cref="NameKind.Call"/>.
/// </summary>
internal sealed record NodeName(int Node, string Name, NameKind Kind);

/// <summary>The parsed loss: inputs, the DAG, its terms and options. No symbols or syntax survive here.</summary>
internal sealed record LossSpec(
    TypeTarget Type,
    ImmutableEquatableArray<InputSpec> Inputs,
    Graph Graph,
    ImmutableEquatableArray<TermSpec> Terms,
    ReductionKind Reduction,
    BackendSet Backends,
    bool AttributeForm)
{
    /// <summary>The user's names of nodes, in node order, at most one per node (locals before parameters before calls).</summary>
    public ImmutableEquatableArray<NodeName> Names { get; init; } = ImmutableEquatableArray<NodeName>.Empty;

    /// <summary>
    /// The names carried through a rebuild of the graph: <paramref name="map"/> gives each old id's id in <paramref name="graph"/>
    /// (−1 when dropped). A name that now lands on a leaf (a local that simplified to an input or a constant) is dropped.
    /// </summary>
    public ImmutableEquatableArray<NodeName> RemapNames(System.Func<int, int> map, Graph graph)
    {
        var seen = new HashSet<int>();
        var list = new List<NodeName>();
        foreach (var n in Names.OrderBy(n => n.Kind).ThenBy(n => n.Node))
        {
            int id = map(n.Node);
            if (id >= 0 && OpTable.Get(graph[id].Op).Class != OpClass.Leaf && seen.Add(id))
            {
                list.Add(n with { Node = id });
            }
        }

        return list.OrderBy(n => n.Node).ToEquatable();
    }
}
