using LossDsl.Generators.Model;

namespace LossDsl.Generators.Schedule;

/// <summary>A stencil evaluated in the pre-pass: its node and the per-pixel program that computes its source.</summary>
internal sealed record StencilPass(int Node, Op Kind, int Kernel, int Source, ImmutableEquatableArray<int> SourceProgram);

/// <summary>What a loop over the channels of a pixel evaluates (see <see cref="Scheduler.ChannelLoop"/>).</summary>
internal sealed record ChannelLoopProgram(ImmutableEquatableArray<int> Body, ImmutableEquatableArray<int> Outer, ImmutableEquatableArray<int> Reads);

/// <summary>The gradient written for one input.</summary>
internal sealed record GradientOutput(int Input, int Node);

/// <summary>
/// Where and when every node of the differentiated loss is computed — the part of the compiler the backends print.
/// Node lists are in dependency order; a node appears in exactly the phase that computes it.
/// <list type="number">
/// <item>Shape scalars: values that depend only on the shape (such as 1/(H·W)), once per call.</item>
/// <item>Stencil pre-pass: each target-only stencil into a buffer, as separable passes (running sums for the box filter).</item>
/// <item>Forward sweep: per pixel, the <see cref="ForwardProgram"/>, accumulating every <see cref="Op.Sum"/> and <see cref="Op.BatchSum"/> in <see cref="Accumulators"/> (double).</item>
/// <item>Batch epilogue: <see cref="BatchForward"/> once, from the accumulated batch sums, and <see cref="ImageSumsForward"/>.</item>
/// <item>Plane epilogue: per plane, <see cref="PlaneProgram"/> (loss, seed, adjoints), accumulating <see cref="PlaneSums"/>.</item>
/// <item>Batch adjoints: <see cref="BatchAdjoint"/> once, from the plane sums, and <see cref="ImageSumsAdjoint"/>.</item>
/// <item>Backward sweep: per pixel, the <see cref="BackwardProgram"/>, writing each <see cref="Gradients"/> node.</item>
/// </list>
/// Backward saves the stencil buffers, the <see cref="SavedPlanes"/> and <see cref="SavedBatch"/> values and recomputes every per-pixel value it needs.
/// </summary>
internal sealed record ScheduleSpec(
    LossSpec Spec,
    Graph Graph,
    int PlaneLoss,
    ImmutableEquatableArray<GradientOutput> Gradients,
    ImmutableEquatableArray<int> ShapeScalars,
    ImmutableEquatableArray<StencilPass> Stencils,
    ImmutableEquatableArray<int> ForwardProgram,
    ImmutableEquatableArray<int> Accumulators,
    ImmutableEquatableArray<int> BatchForward,
    ImmutableEquatableArray<int> PlaneProgram,
    ImmutableEquatableArray<int> PlaneSums,
    ImmutableEquatableArray<int> BatchAdjoint,
    ImmutableEquatableArray<int> BackwardProgram,
    ImmutableEquatableArray<int> SavedPlanes,
    ImmutableEquatableArray<int> SavedBatch)
{
    /// <summary>
    /// Sums over the images of each channel (<see cref="Op.ImageSum"/>) of forward values: evaluated with the batch epilogue,
    /// from the forward sweep's per-plane sums, before the plane epilogue reads them.
    /// </summary>
    public ImmutableEquatableArray<int> ImageSumsForward { get; init; } = ImmutableEquatableArray<int>.Empty;

    /// <summary>
    /// Sums over the images of each channel of adjoints: evaluated with the batch adjoints, once the plane epilogue has
    /// computed every plane's; plane values that read them are computed after (with the late plane adjoints).
    /// </summary>
    public ImmutableEquatableArray<int> ImageSumsAdjoint { get; init; } = ImmutableEquatableArray<int>.Empty;

    /// <summary>Number of passes over pixel memory: stencil passes count two (separable), plus the forward and backward sweeps.</summary>
    public int MemorySweeps => (Stencils.Count * 2) + 1 + (BackwardProgram.Count > 0 ? 1 : 0);

    /// <summary>
    /// The plane-epilogue statements a backend prints: <see cref="PlaneProgram"/> without the seed, which is an input of
    /// the epilogue (the caller's upstream gradient or the reduction's default), not a computed value.
    /// </summary>
    public System.Collections.Generic.IEnumerable<int> PlaneStatements
    {
        get
        {
            foreach (int id in PlaneProgram)
            {
                if (Graph[id].Op != Op.Seed)
                {
                    yield return id;
                }
            }
        }
    }
}
