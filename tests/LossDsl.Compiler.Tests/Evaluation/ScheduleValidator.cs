using System;
using System.Collections.Generic;
using System.Linq;
using LossDsl.Generators.Model;
using LossDsl.Generators.Schedule;

namespace LossDsl.Compiler.Tests.Evaluation;

/// <summary>
/// Walks a <see cref="ScheduleSpec"/> phase by phase, as an emitter runs it, and checks that every node is computed from
/// values that exist at that point: constants and shape scalars; stencil buffers; within a per-pixel program, earlier
/// nodes of the same program; the accumulated sums after the forward sweep; per-plane and whole-batch values in their
/// epilogues; in the backward sweep only the saved plane and batch values (per-pixel values are recomputed). The values
/// themselves are then those of <see cref="GraphEvaluator"/>, which evaluates each node from its definition.
/// </summary>
internal static class ScheduleValidator
{
    public static void Validate(ScheduleSpec s)
    {
        var g = s.Graph;
        var persistent = new HashSet<int>(Enumerable.Range(0, g.Count).Where(id => g[id].Op == Op.Const));

        void Check(string phase, int id, ICollection<int> local)
        {
            foreach (int a in g[id].Args)
            {
                if (!persistent.Contains(a) && !local.Contains(a))
                {
                    throw new InvalidOperationException($"{phase}: node {id} = {g[id]} reads node {a} = {g[a]}, which is not available there.");
                }
            }
        }

        void Sequence(string phase, IEnumerable<int> nodes, Rank? rank, Func<int, bool>? allowed = null)
        {
            foreach (int id in nodes)
            {
                if (rank is Rank r && g[id].Rank != r)
                {
                    throw new InvalidOperationException($"{phase}: node {id} = {g[id]} has rank {g[id].Rank}, expected {r}.");
                }

                if (allowed is not null && !allowed(id))
                {
                    throw new InvalidOperationException($"{phase}: node {id} = {g[id]} does not belong in this phase.");
                }

                Check(phase, id, Array.Empty<int>());
                persistent.Add(id);
            }
        }

        // A per-pixel program: field nodes, each from persistent values or earlier nodes of the program; stencil nodes read their buffer.
        HashSet<int> Program(string phase, IEnumerable<int> nodes)
        {
            var local = new HashSet<int>();
            foreach (int id in nodes)
            {
                if (g[id].Rank != Rank.Field)
                {
                    throw new InvalidOperationException($"{phase}: node {id} = {g[id]} is not per-pixel.");
                }

                if (g[id].Op is Op.AvgPool or Op.MaxPool or Op.MinPool)
                {
                    if (!persistent.Contains(id))
                    {
                        throw new InvalidOperationException($"{phase}: stencil {id} is read before its pre-pass.");
                    }
                }
                else
                {
                    Check(phase, id, local);
                }

                local.Add(id);
            }

            return local;
        }

        Sequence("shape scalars", s.ShapeScalars, Rank.Scalar);
        foreach (var st in s.Stencils)
        {
            if (!g[st.Node].TargetOnly)
            {
                throw new InvalidOperationException($"Stencil {st.Node} depends on a differentiable input.");
            }

            var local = Program("stencil source " + st.Node, st.SourceProgram);
            if (!local.Contains(st.Source) && !persistent.Contains(st.Source))
            {
                throw new InvalidOperationException($"Stencil {st.Node}: its source {st.Source} is not computed by its source program.");
            }

            persistent.Add(st.Node);
        }

        var forward = Program("forward sweep", s.ForwardProgram);
        foreach (int acc in s.Accumulators)
        {
            if (g[acc].Op is not (Op.Sum or Op.BatchSum) || !(forward.Contains(g[acc].Args[0]) || persistent.Contains(g[acc].Args[0])))
            {
                throw new InvalidOperationException($"Accumulator {acc} = {g[acc]} is not a reduction of a forward-sweep value.");
            }
        }

        foreach (int acc in s.Accumulators)
        {
            persistent.Add(acc);
        }

        Sequence("batch forward", s.BatchForward, Rank.Batch);
        Sequence("plane epilogue", s.PlaneProgram, Rank.Plane);
        foreach (int ps in s.PlaneSums)
        {
            if (g[ps].Op != Op.PlaneSum)
            {
                throw new InvalidOperationException($"Plane sum {ps} = {g[ps]} is not a PlaneSum.");
            }

            Check("plane sums", ps, Array.Empty<int>());
            persistent.Add(ps);
        }

        Sequence("batch adjoint", s.BatchAdjoint, Rank.Batch);

        if (!persistent.Contains(s.PlaneLoss))
        {
            throw new InvalidOperationException($"The plane loss {s.PlaneLoss} = {g[s.PlaneLoss]} is never computed.");
        }

        // Backward: only what was saved survives from the epilogues, besides stencil buffers, constants and shape scalars.
        var saved = new HashSet<int>(Enumerable.Range(0, g.Count).Where(id => g[id].Op == Op.Const));
        saved.UnionWith(s.ShapeScalars);
        saved.UnionWith(s.Stencils.Select(st => st.Node));
        foreach (int id in s.SavedPlanes.Concat(s.SavedBatch))
        {
            if (!persistent.Contains(id))
            {
                throw new InvalidOperationException($"Saved value {id} = {g[id]} is never computed.");
            }

            saved.Add(id);
        }

        persistent = saved;
        var backward = Program("backward sweep", s.BackwardProgram);
        foreach (var o in s.Gradients)
        {
            if (!backward.Contains(o.Node) && !persistent.Contains(o.Node))
            {
                throw new InvalidOperationException($"Gradient of input {o.Input}: node {o.Node} = {g[o.Node]} is not computed in the backward sweep.");
            }
        }
    }
}
