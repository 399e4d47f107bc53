using System.Collections.Generic;
using System.Linq;
using LossDsl.Generators.Kernels;
using LossDsl.Generators.Model;
using LossDsl.Generators.Schedule;

namespace LossDsl.Generators.Emit;

/// <summary>Plain-math rendering of nodes, for doc comments and the schedule dump.</summary>
internal static class MathText
{
    /// <summary>A number as a reader writes it: round-trippable, invariant, without a trailing ".0".</summary>
    public static string Short(double v) => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>A leaf as a reader writes it: a constant as its number, an input by name, the shape quantities and the seed by their symbols; null for any other node.</summary>
    public static string? Leaf(ScheduleSpec s, Node n) => n.Op switch
    {
        Op.Const => Short(n.Value),
        Op.Input => s.Spec.Inputs[(int)n.Value].Name,
        Op.PlaneSize => "HW",
        Op.BatchSize => "NCHW",
        Op.Seed => "seed",
        Op.ChannelCount => "C",
        Op.ChannelIndex => "c",
        _ => null,
    };

    /// <summary>A value's name in the generated code (<see cref="ValueNames"/>); leaves as themselves (<see cref="Leaf"/>).</summary>
    public static string Name(ScheduleSpec s, IReadOnlyList<string> names, int id) => Leaf(s, s.Graph[id]) ?? names[id];

    /// <summary>A value's name in the kernel program's generated code.</summary>
    public static string Name(KernelProgram p, int id) => Name(p.Schedule, p.Names, id);

    /// <summary>One node as an expression over the names of its arguments (the op table's plain-math text).</summary>
    public static string Expr(ScheduleSpec s, IReadOnlyList<string> names, int id) => Expr(s.Graph[id], a => Name(s, names, a), () => Name(s, names, id));

    /// <summary>One node of a kernel program as an expression over its arguments' names.</summary>
    public static string Expr(KernelProgram p, int id) => Expr(p.Schedule, p.Names, id);

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
        var names = ValueNames.Of(s);
        string Name(int id) => MathText.Name(s, names, id);
        string Expr(int id) => MathText.Expr(s, names, id);
        string Left(int id) => s.Graph[id].Op == Op.Seed ? "v" + id.ToString(System.Globalization.CultureInfo.InvariantCulture) : names[id];
        var w = new CodeWriter();
        w.Line($"loss {s.Spec.Type.FullName}  reduction={s.Spec.Reduction}  inputs=({string.Join(", ", s.Spec.Inputs.Select(i => i.Role + " " + i.Name))})");
        foreach (var t in s.Spec.Terms)
        {
            w.Line($"term {t.Name} x{CodeWriter.Num(t.Weight)} = {Name(t.Root)}");
        }

        w.Line($"plane loss = {Name(s.PlaneLoss)}");
        w.Line($"sweeps over memory: {s.MemorySweeps}");
        Section(w, "shape scalars", s.ShapeScalars, Left, Expr);
        foreach (var st in s.Stencils)
        {
            w.Line($"stencil pre-pass: {Name(st.Node)} = {Expr(st.Node)}  (separable {(st.Kind == Op.AvgPool ? "running sums" : "running extrema")})");
            Section(w, "  source per pixel", st.SourceProgram, Left, Expr);
        }

        Section(w, "forward sweep per pixel", s.ForwardProgram, Left, Expr);
        w.Line("  accumulate: " + string.Join(", ", s.Accumulators.Select(a => $"{names[a]} = {Expr(a)}")));
        Section(w, "batch epilogue", s.BatchForward, Left, Expr);
        Section(w, "per-class sums over images", s.ImageSumsForward, Left, Expr);
        Section(w, "plane epilogue", s.PlaneProgram, Left, Expr);
        if (s.PlaneSums.Count > 0)
        {
            w.Line("  accumulate: " + string.Join(", ", s.PlaneSums.Select(a => $"{names[a]} = {Expr(a)}")));
        }

        Section(w, "batch adjoints", s.BatchAdjoint, Left, Expr);
        Section(w, "per-class sums of adjoints over images", s.ImageSumsAdjoint, Left, Expr);
        Section(w, "backward sweep per pixel", s.BackwardProgram, Left, Expr);
        w.Line("  write: " + string.Join(", ", s.Gradients.Select(g => $"d/d{s.Spec.Inputs[g.Input].Name} = {Name(g.Node)}")));
        w.Line("saved for backward: " + string.Join(", ", s.Stencils.Select(x => $"{Name(x.Node)} (buffer)").Concat(s.SavedPlanes.Select(x => $"{Name(x)} (per plane)")).Concat(s.SavedBatch.Select(x => $"{Name(x)} (batch)"))));
        w.Line("recomputed in backward: " + string.Join(", ", s.BackwardProgram.Where(x => s.ForwardProgram.Contains(x)).Select(x => names[x])));
        return w.ToString();
    }

    private static void Section(CodeWriter w, string title, IEnumerable<int> nodes, System.Func<int, string> name, System.Func<int, string> expr)
    {
        var list = nodes.ToList();
        if (list.Count == 0)
        {
            return;
        }

        w.Line(title + ":");
        foreach (int id in list)
        {
            w.Line($"  {name(id)} = {expr(id)}");
        }
    }
}
