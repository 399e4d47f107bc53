using System;
using System.Collections.Generic;
using System.Linq;
using LossDsl.Generators.Model;
using LossDsl.Generators.Schedule;

namespace LossDsl.Generators.Kernels;

/// <summary>The iteration domain of a kernel: what one execution of its body covers.</summary>
internal enum Domain
{
    /// <summary>Once per pixel of every plane (N·C·H·W). Plane-slot operands are the pixel's plane's.</summary>
    Pixels,

    /// <summary>A separable window filter over every plane (<see cref="FilterStatement"/> is the body).</summary>
    Filter,

    /// <summary>Once per (n, c) plane, in double precision.</summary>
    Planes,

    /// <summary>Once per call, in double precision.</summary>
    Once,
}

/// <summary>When a kernel runs.</summary>
internal enum KernelRole
{
    /// <summary>Target-only work: skipped when the caller reuses the previous call's (deep supervision, one target).</summary>
    Target,

    /// <summary>The loss and everything the backward reads.</summary>
    Forward,

    /// <summary>Runs only when a gradient is asked for.</summary>
    Backward,
}

/// <summary>A shape quantity an operand can read.</summary>
internal enum ShapeQuantity
{
    /// <summary>H·W.</summary>
    PlaneSize,

    /// <summary>N·C·H·W.</summary>
    Length,

    /// <summary>N·C.</summary>
    Planes,

    /// <summary>C.</summary>
    Channels,

    /// <summary>The current plane's channel, p mod C (plane kernels only).</summary>
    ChannelIndex,
}

/// <summary>What an operand reads.</summary>
internal enum OperandKind
{
    /// <summary>A constant (<see cref="Operand.Value"/>).</summary>
    Literal,

    /// <summary>A value defined earlier in the same kernel, or in its setup (<see cref="Operand.Index"/> is the value id).</summary>
    Local,

    /// <summary>The current pixel of input <see cref="Operand.Index"/> (pixel kernels only).</summary>
    Input,

    /// <summary>The current pixel of field buffer <see cref="Operand.Index"/> (pixel kernels only).</summary>
    Field,

    /// <summary>Slot <see cref="Operand.Index"/> of the current plane's row of the plane table.</summary>
    PlaneSlot,

    /// <summary>Slot <see cref="Operand.Index"/> of the batch table.</summary>
    BatchSlot,

    /// <summary>A <see cref="ShapeQuantity"/> (<see cref="Operand.Index"/>).</summary>
    Shape,
}

/// <summary>
/// A resolved operand: where a statement reads a value. <see cref="Node"/> is the graph node it holds (for names and
/// comments), −1 for values the planner introduced.
/// </summary>
internal sealed record Operand(OperandKind Kind, int Index, double Value, int Node)
{
    public static Operand Literal(double value) => new(OperandKind.Literal, 0, value, -1);

    public static Operand Shape(ShapeQuantity q) => new(OperandKind.Shape, (int)q, 0, -1);

    /// <summary>True for values that are the same for every element of a pixel kernel's plane (hoisted by the backends).</summary>
    public bool IsUniform => Kind is OperandKind.PlaneSlot or OperandKind.BatchSlot || (Kind == OperandKind.Shape && Index != (int)ShapeQuantity.ChannelIndex);
}

/// <summary>One statement of a kernel body.</summary>
internal abstract record Statement;

/// <summary><c>Id = Op(Args; K, K2)</c>: a value, in the element type in pixel kernels and in double elsewhere.</summary>
internal sealed record LetStatement(int Id, Op Op, ImmutableEquatableArray<Operand> Args, double K, double K2) : Statement;

/// <summary><c>Id = Source</c>: a named copy of a slot, so that epilogues read like the math.</summary>
internal sealed record LoadStatement(int Id, Operand Source) : Statement;

/// <summary>Pixel kernels: adds <see cref="Value"/> into plane slot <see cref="Slot"/> (zero before the kernel; double sums, fixed order).</summary>
internal sealed record AccumulateStatement(int Slot, Operand Value) : Statement;

/// <summary>Pixel kernels: writes the pixel of field buffer <see cref="Buffer"/>.</summary>
internal sealed record StoreFieldStatement(int Buffer, Operand Value) : Statement;

/// <summary>Pixel kernels: writes d loss / d input <see cref="Input"/> at the pixel (when that gradient is asked for).</summary>
internal sealed record StoreGradientStatement(int Input, Operand Value) : Statement;

/// <summary>Plane kernels: writes slot <see cref="Slot"/> of the plane's row.</summary>
internal sealed record StorePlaneStatement(int Slot, Operand Value) : Statement;

/// <summary>Plane kernels: writes the plane's loss to the caller's per-plane output (when one is given).</summary>
internal sealed record StorePlaneLossStatement(Operand Value) : Statement;

/// <summary>Once kernels: writes slot <see cref="Slot"/> of the batch table.</summary>
internal sealed record StoreBatchStatement(int Slot, Operand Value) : Statement;

/// <summary>Once kernels: <c>Id = Σ_p planeTable[p, Slot]</c>, over planes in order.</summary>
internal sealed record SumPlanesStatement(int Id, int Slot) : Statement;

/// <summary>
/// Once kernels: for every channel c, <c>planeTable[n·C + c, Destination] = Σ_n' planeTable[n'·C + c, Source]</c>, the sum
/// over images in order (<see cref="Op.ImageSum"/>: one value per channel, the same in every image's row).
/// </summary>
internal sealed record SumOverImagesStatement(int Node, int Source, int Destination) : Statement;

/// <summary>Plane kernels: <c>Id</c> = the caller's upstream gradient of this plane's loss, or <see cref="Default"/>.</summary>
internal sealed record SeedStatement(int Id, Operand Default) : Statement;

/// <summary>Once kernels: the value the call returns.</summary>
internal sealed record ResultStatement(Operand Value) : Statement;

/// <summary>Filter kernels: <c>Destination = kind_k(Source)</c> per plane, separable (running sums, running extrema).</summary>
internal sealed record FilterStatement(Op Kind, int Kernel, Operand Source, int Destination, int Node) : Statement;

/// <summary>
/// Pixel kernels: <c>Id = reduce_c Value</c>, a reduction over the channels of the current pixel (<see cref="Op.SumChannels"/>:
/// the sum; <see cref="Op.LogSumExp"/>: the log-sum-exp, shifted by the channels' maximum). <see cref="Body"/> (lets and loads)
/// is evaluated once per channel: inside it, <see cref="OperandKind.Input"/>, <see cref="OperandKind.Field"/> and
/// <see cref="OperandKind.PlaneSlot"/> operands are read at the loop's channel of the pixel's image; locals defined before the
/// loop are channel-constant. Its values are named once (<see cref="Node"/> is the reduction's node).
/// </summary>
internal sealed record ChannelLoopStatement(int Id, Op Reduce, ImmutableEquatableArray<Statement> Body, Operand Value, int Node) : Statement;

/// <summary>
/// One kernel: its domain, when it runs, the setup it evaluates once per launch (shape-dependent values, in double), the
/// uniform operands its body reads (hoisted by the backends: plane and batch slots, shape quantities, setup values) and its
/// body.
/// </summary>
internal sealed record Kernel(
    string Name,
    Domain Domain,
    KernelRole Role,
    string Summary,
    ImmutableEquatableArray<LetStatement> Setup,
    ImmutableEquatableArray<Operand> Uniforms,
    ImmutableEquatableArray<Statement> Body)
{
    /// <summary>
    /// A pixel kernel that runs once per pixel of each image (N·H·W) rather than of each plane: it evaluates reductions over
    /// channels (its <see cref="ChannelLoopStatement"/>s run from channel 0) and its <see cref="StoreFieldStatement"/>s write
    /// the value at every channel of the pixel.
    /// </summary>
    public bool PerImage { get; init; }

    public IEnumerable<Operand> Reads =>
        Setup.SelectMany(s => s.Args).Concat(Body.SelectMany(StatementReads));

    /// <summary>The channel loops of the body.</summary>
    public IEnumerable<ChannelLoopStatement> ChannelLoops => Body.OfType<ChannelLoopStatement>();

    public bool Accumulates => Body.Any(s => s is AccumulateStatement);

    public static IEnumerable<Operand> StatementReads(Statement s) => s switch
    {
        LetStatement l => l.Args,
        LoadStatement l => new[] { l.Source },
        AccumulateStatement a => new[] { a.Value },
        StoreFieldStatement f => new[] { f.Value },
        StoreGradientStatement g => new[] { g.Value },
        StorePlaneStatement p => new[] { p.Value },
        StorePlaneLossStatement p => new[] { p.Value },
        StoreBatchStatement b => new[] { b.Value },
        SeedStatement d => new[] { d.Default },
        ResultStatement r => new[] { r.Value },
        FilterStatement f => new[] { f.Source },
        ChannelLoopStatement c => c.Body.SelectMany(StatementReads).Concat(new[] { c.Value }),
        _ => Array.Empty<Operand>(),
    };
}

/// <summary>A slot of the plane or batch table, or a field buffer: what it holds, for comments.</summary>
internal sealed record Slot(int Index, int Node, string Purpose);

/// <summary>
/// The loss as a small loop program — the model every backend prints. Buffers: the inputs and gradients (the caller's),
/// <see cref="Fields"/> (per-pixel buffers of the element type), the plane table (<see cref="PlaneSlots"/> doubles per
/// plane) and the batch table (<see cref="BatchSlots"/> doubles). Kernels run in order; each reads only what earlier
/// kernels wrote. Values are named once, in <see cref="Names"/>, for every backend.
/// </summary>
internal sealed record KernelProgram(
    ScheduleSpec Schedule,
    ImmutableEquatableArray<Kernel> Kernels,
    ImmutableEquatableArray<Slot> Fields,
    ImmutableEquatableArray<Slot> PlaneSlots,
    ImmutableEquatableArray<Slot> BatchSlots,
    ImmutableEquatableArray<string> Names)
{
    public LossSpec Spec => Schedule.Spec;

    public Graph Graph => Schedule.Graph;

    /// <summary>The name of value <paramref name="id"/> (a graph node or a value the planner introduced).</summary>
    public string Name(int id) => Names[id];

    public IEnumerable<int> LogitsInputs => Enumerable.Range(0, Spec.Inputs.Count).Where(i => Spec.Inputs[i].Role == InputRole.Logits);

    public bool HasTargetWork => Kernels.Any(k => k.Role == KernelRole.Target);

    public bool HasBackward => Kernels.Any(k => k.Role == KernelRole.Backward);

    /// <summary>Field-buffer sweeps of one forward + backward call, in units of the input length: reads and writes of inputs, fields and gradients.</summary>
    public int FieldPasses => Kernels.Sum(k => k.Domain switch
    {
        Domain.Pixels => k.Reads.Where(o => o.Kind is OperandKind.Input or OperandKind.Field).Distinct().Count()
            + k.Body.Count(s => s is StoreFieldStatement or StoreGradientStatement),
        Domain.Filter => 2,
        _ => 0,
    });
}
