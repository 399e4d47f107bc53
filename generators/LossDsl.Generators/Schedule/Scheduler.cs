using System.Collections.Generic;
using System.Linq;
using LossDsl.Generators.Differentiate;
using LossDsl.Generators.Model;

namespace LossDsl.Generators.Schedule;

/// <summary>
/// Groups the differentiated DAG into the fewest sweeps over memory (see <see cref="ScheduleSpec"/>): all reductions
/// share one forward sweep, all gradients one backward sweep, target-only stencils one pre-pass each.
/// </summary>
internal static class Scheduler
{
    public static ScheduleSpec Schedule(DifferentiatedLoss d)
    {
        d = Compact(d);
        var g = d.Graph;
        var gradients = d.Gradients.Select((node, input) => new GradientOutput(input, node)).Where(o => o.Node >= 0).ToList();

        // Everything reachable from the outputs.
        var live = g.Reachable(new[] { d.PlaneLoss }.Concat(gradients.Select(o => o.Node)).Concat(d.Spec.Terms.Select(t => t.Root)));

        bool IsStencil(Op op) => op is Op.AvgPool or Op.MaxPool or Op.MinPool;
        bool IsLiteral(int id) => g[id].Op == Op.Const;

        // Per-pixel program for a set of field roots: per-pixel nodes in id (dependency) order, stopping at stencils and at
        // reductions over channels (the planner computes each of those into a buffer before the sweep that reads it).
        List<int> FieldProgram(IEnumerable<int> roots)
        {
            var seen = new HashSet<int>();
            var st = new Stack<int>(roots);
            while (st.Count > 0)
            {
                int id = st.Pop();
                var n = g[id];
                if (!n.Rank.IsPerPixel() || IsLiteral(id) || !seen.Add(id))
                {
                    continue;
                }

                if (!IsStencil(n.Op) && !IsChannelReduction(n.Op))
                {
                    foreach (int a in n.Args)
                    {
                        st.Push(a);
                    }
                }
            }

            return seen.OrderBy(x => x).ToList();
        }

        var stencils = Enumerable.Range(0, g.Count).Where(id => live[id] && IsStencil(g[id].Op))
            .Select(id => new StencilPass(id, g[id].Op, g[id].Kernel, g[id].Args[0], FieldProgram(new[] { g[id].Args[0] }).ToEquatable()))
            .ToList();

        var accumulators = Enumerable.Range(0, g.Count).Where(id => live[id] && g[id].Op is Op.Sum or Op.BatchSum).ToList();
        var forward = FieldProgram(accumulators.Select(a => g[a].Args[0]));

        // Nodes that depend on the seed (adjoints) versus forward values.
        var dependsOnSeed = new bool[g.Count];
        for (int id = 0; id < g.Count; id++)
        {
            dependsOnSeed[id] = g[id].Op == Op.Seed || g[id].Args.Any(a => dependsOnSeed[a]);
        }

        var shapeScalars = Enumerable.Range(0, g.Count).Where(id => live[id] && g[id].Rank == Rank.Scalar && !IsLiteral(id)).ToList();
        var batchForward = Enumerable.Range(0, g.Count).Where(id => live[id] && g[id].Rank == Rank.Batch && g[id].Op != Op.BatchSum && !dependsOnSeed[id]).ToList();
        var batchAdjoint = Enumerable.Range(0, g.Count).Where(id => live[id] && g[id].Rank == Rank.Batch && g[id].Op != Op.PlaneSum && dependsOnSeed[id]).ToList();
        var planeSums = Enumerable.Range(0, g.Count).Where(id => live[id] && g[id].Op == Op.PlaneSum).ToList();
        var planeProgram = Enumerable.Range(0, g.Count).Where(id => live[id] && g[id].Rank == Rank.Plane && g[id].Op is not (Op.Sum or Op.ImageSum or Op.ChannelIndex)).ToList();

        // Sums over the images of each channel read every plane: forward ones once the forward sweep's sums are in, adjoint
        // ones once the plane epilogue has written every plane's adjoint.
        var imageSums = Enumerable.Range(0, g.Count).Where(id => live[id] && g[id].Op == Op.ImageSum).ToList();

        var backward = FieldProgram(gradients.Select(o => o.Node));
        var readInBackward = new HashSet<int>(backward.SelectMany(id => IsChannelReduction(g[id].Op) ? ChannelLoop(g, g[id].Args[0]).Reads : g[id].Args).Concat(gradients.Select(o => o.Node)));
        var savedPlanes = readInBackward.Where(id => g[id].Rank == Rank.Plane).OrderBy(x => x).ToList();
        var savedBatch = readInBackward.Where(id => g[id].Rank == Rank.Batch).OrderBy(x => x).ToList();

        return new ScheduleSpec(
            d.Spec,
            g,
            d.PlaneLoss,
            gradients.ToEquatable(),
            shapeScalars.ToEquatable(),
            stencils.ToEquatable(),
            forward.ToEquatable(),
            accumulators.ToEquatable(),
            batchForward.ToEquatable(),
            planeProgram.ToEquatable(),
            planeSums.ToEquatable(),
            batchAdjoint.ToEquatable(),
            backward.ToEquatable(),
            savedPlanes.ToEquatable(),
            savedBatch.ToEquatable())
        {
            ImageSumsForward = imageSums.Where(id => !dependsOnSeed[id]).ToEquatable(),
            ImageSumsAdjoint = imageSums.Where(id => dependsOnSeed[id]).ToEquatable(),
        };
    }

    /// <summary>True for the reductions over the channels of a pixel, evaluated by a loop over channels inside a pixel kernel.</summary>
    public static bool IsChannelReduction(Op op) => op is Op.SumChannels or Op.LogSumExp;

    /// <summary>
    /// The body of the channel loop that evaluates <paramref name="root"/> (the argument of a reduction over channels) at
    /// every channel of a pixel: <see cref="ChannelLoopProgram.Body"/> holds the nodes that vary over channels (inputs and
    /// stencil buffers, read at the loop's channel, and what is computed from them), in dependency order;
    /// <see cref="ChannelLoopProgram.Outer"/> the per-pixel, channel-constant values it reads, computed before the loop;
    /// <see cref="ChannelLoopProgram.Reads"/> every node the body reads from outside (per-plane values are read at the
    /// loop's channel).
    /// </summary>
    public static ChannelLoopProgram ChannelLoop(Graph g, int root)
    {
        var body = new HashSet<int>();
        var reads = new HashSet<int>();
        var st = new Stack<int>();
        st.Push(root);
        while (st.Count > 0)
        {
            int id = st.Pop();
            var n = g[id];
            if (n.Rank != Rank.Field || n.Op == Op.Const)
            {
                reads.Add(id);
                continue;
            }

            if (!body.Add(id))
            {
                continue;
            }

            if (OpTable.Get(n.Op).Class != OpClass.Stencil)
            {
                foreach (int a in n.Args)
                {
                    st.Push(a);
                }
            }
        }

        return new ChannelLoopProgram(
            body.OrderBy(x => x).ToEquatable(),
            reads.Where(id => g[id].Rank == Rank.Pixel).OrderBy(x => x).ToEquatable(),
            reads.OrderBy(x => x).ToEquatable());
    }

    /// <summary>
    /// Drops the nodes no output reads (intermediates left behind by simplification) and renumbers the rest densely in
    /// dependency order, so generated code reads v0, v1, v2, … without gaps.
    /// </summary>
    internal static DifferentiatedLoss Compact(DifferentiatedLoss d)
    {
        var g = d.Graph;
        // Term values stay (simplification may have folded a term's weight into its body): the dump and doc name them.
        var live = g.Reachable(new[] { d.PlaneLoss }.Concat(d.Gradients.Where(x => x >= 0)).Concat(d.Spec.Terms.Select(t => t.Root)));

        var map = new int[g.Count];
        var nodes = new List<Node>();
        for (int id = 0; id < g.Count; id++)
        {
            map[id] = -1;
            if (live[id])
            {
                map[id] = nodes.Count;
                var n = g[id];
                nodes.Add(n with { Args = n.Args.Select(a => map[a]).ToEquatable() });
            }
        }

        int Map(int id) => id < 0 ? -1 : map[id];
        var terms = d.Spec.Terms.Select(t => t with { Root = Map(t.Root) }).ToEquatable();
        var compact = new Graph(nodes.ToEquatable());
        return new DifferentiatedLoss(
            d.Spec with { Terms = terms, Names = d.Spec.RemapNames(Map, compact) },
            compact,
            Map(d.PlaneLoss),
            d.Gradients.Select(Map).ToEquatable());
    }
}
