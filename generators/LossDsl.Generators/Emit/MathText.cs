using System.Collections.Generic;
using System.Linq;
using LossDsl.Generators.Model;
using LossDsl.Generators.Schedule;

namespace LossDsl.Generators.Emit;

/// <summary>Plain-math rendering of nodes, for doc comments and the schedule dump.</summary>
internal static class MathText
{
    /// <summary>A number as a reader writes it: round-trippable, invariant, without a trailing ".0".</summary>
    public static string Short(double v) => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture);

    public static string Name(ScheduleSpec s, int id)
    {
        var n = s.Graph[id];
        return n.Op switch
        {
            Op.Const => Short(n.Value),
            Op.Input => s.Spec.Inputs[(int)n.Value].Name,
            Op.PlaneSize => "HW",
            Op.BatchSize => "NCHW",
            Op.Seed => "seed",
            _ => "v" + id,
        };
    }

    /// <summary>One node as an expression over the names of its arguments (the op table's plain-math text).</summary>
    public static string Expr(ScheduleSpec s, int id) => Expr(s.Graph[id], a => Name(s, a), () => Name(s, id));

    /// <summary>A node's plain-math text over the given argument names; leaves are named by <paramref name="leaf"/>.</summary>
    public static string Expr(Node n, System.Func<int, string> name, System.Func<string> leaf)
    {
        var row = OpTable.Get(n.Op);
        if (row.Class == OpClass.Leaf)
        {
            return leaf();
        }

        var args = n.Args.Select(name).ToArray();
        return Template.Fill(row.Text, args, Short(n.Value), Short(n.Value2));
    }

    /// <summary>The schedule as text: the review and snapshot format of the compiler's middle.</summary>
    public static string Dump(ScheduleSpec s)
    {
        var w = new CodeWriter();
        w.Line($"loss {s.Spec.Type.FullName}  reduction={s.Spec.Reduction}  inputs=({string.Join(", ", s.Spec.Inputs.Select(i => i.Role + " " + i.Name))})");
        foreach (var t in s.Spec.Terms)
        {
            w.Line($"term {t.Name} x{CodeWriter.Num(t.Weight)} = v{t.Root}");
        }

        w.Line($"plane loss = {Name(s, s.PlaneLoss)}");
        w.Line($"sweeps over memory: {s.MemorySweeps}");
        Section(w, s, "shape scalars", s.ShapeScalars);
        foreach (var st in s.Stencils)
        {
            w.Line($"stencil pre-pass: v{st.Node} = {Expr(s, st.Node)}  (separable {(st.Kind == Op.AvgPool ? "running sums" : "running extrema")})");
            Section(w, s, "  source per pixel", st.SourceProgram);
        }

        Section(w, s, "forward sweep per pixel", s.ForwardProgram);
        w.Line("  accumulate: " + string.Join(", ", s.Accumulators.Select(a => $"v{a} = {Expr(s, a)}")));
        Section(w, s, "batch epilogue", s.BatchForward);
        Section(w, s, "plane epilogue", s.PlaneProgram);
        if (s.PlaneSums.Count > 0)
        {
            w.Line("  accumulate: " + string.Join(", ", s.PlaneSums.Select(a => $"v{a} = {Expr(s, a)}")));
        }

        Section(w, s, "batch adjoints", s.BatchAdjoint);
        Section(w, s, "backward sweep per pixel", s.BackwardProgram);
        w.Line("  write: " + string.Join(", ", s.Gradients.Select(g => $"d/d{s.Spec.Inputs[g.Input].Name} = {Name(s, g.Node)}")));
        w.Line("saved for backward: " + string.Join(", ", s.Stencils.Select(x => $"v{x.Node} (buffer)").Concat(s.SavedPlanes.Select(x => $"v{x} (per plane)")).Concat(s.SavedBatch.Select(x => $"v{x} (batch)"))));
        w.Line("recomputed in backward: " + string.Join(", ", s.BackwardProgram.Where(x => s.ForwardProgram.Contains(x)).Select(x => "v" + x)));
        return w.ToString();
    }

    private static void Section(CodeWriter w, ScheduleSpec s, string title, IEnumerable<int> nodes)
    {
        var list = nodes.ToList();
        if (list.Count == 0)
        {
            return;
        }

        w.Line(title + ":");
        foreach (int id in list)
        {
            w.Line($"  v{id} = {Expr(s, id)}");
        }
    }
}
