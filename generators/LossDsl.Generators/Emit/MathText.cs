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

    /// <summary>One node as an expression over the names of its arguments.</summary>
    public static string Expr(ScheduleSpec s, int id)
    {
        var n = s.Graph[id];
        string A(int i) => Name(s, n.Args[i]);
        string k = Short(n.Value);
        return n.Op switch
        {
            Op.Neg => "-" + A(0),
            Op.Add => A(0) + " + " + A(1),
            Op.Sub => A(0) + " - " + A(1),
            Op.Mul => A(0) + " * " + A(1),
            Op.Div => A(0) + " / " + A(1),
            Op.Abs => "|" + A(0) + "|",
            Op.Sigmoid => "sigmoid(" + A(0) + ")",
            Op.LogSigmoid => "logsigmoid(" + A(0) + ")",
            Op.Softplus => "softplus(" + A(0) + ")",
            Op.Exp => "exp(" + A(0) + ")",
            Op.Log => "log(" + A(0) + ")",
            Op.Sqrt => "sqrt(" + A(0) + ")",
            Op.Square => A(0) + "^2",
            Op.Pow => A(0) + "^" + k,
            Op.Clamp => $"clamp({A(0)}, {k}, {Short(n.Value2)})",
            Op.Sign => "sign(" + A(0) + ")",
            Op.InRange => $"[{k} <= {A(0)} <= {Short(n.Value2)}]",
            Op.Min => $"min({A(0)}, {A(1)})",
            Op.Max => $"max({A(0)}, {A(1)})",
            Op.Step => $"step({A(0)} > {A(1)})",
            Op.BceWithLogits => $"bce_with_logits({A(0)}, {A(1)})",
            Op.AvgPool => $"avg_pool{k}({A(0)})",
            Op.MaxPool => $"max_pool{k}({A(0)})",
            Op.MinPool => $"min_pool{k}({A(0)})",
            Op.Sum => $"Σ_hw {A(0)}",
            Op.BatchSum => $"Σ_nchw {A(0)}",
            Op.PlaneSum => $"Σ_nc {A(0)}",
            _ => Name(s, id),
        };
    }

    /// <summary>An expression tree with single-use subexpressions inlined, for doc comments.</summary>
    public static string Inline(ScheduleSpec s, int root, int depth = 0)
    {
        var n = s.Graph[root];
        if (n.Arity == 0 || depth > 12)
        {
            return Name(s, root);
        }

        var args = n.Args.Select(a => Wrap(s, a, Inline(s, a, depth + 1))).ToList();
        string k = Short(n.Value);
        return n.Op switch
        {
            Op.Neg => "-" + args[0],
            Op.Add => args[0] + " + " + args[1],
            Op.Sub => args[0] + " - " + args[1],
            Op.Mul => args[0] + "·" + args[1],
            Op.Div => args[0] + " / " + args[1],
            Op.Abs => "|" + Inline(s, n.Args[0], depth + 1) + "|",
            Op.Square => args[0] + "²",
            Op.Pow => args[0] + "^" + k,
            Op.Sum => "Σ_hw(" + Inline(s, n.Args[0], depth + 1) + ")",
            Op.BatchSum => "Σ_nchw(" + Inline(s, n.Args[0], depth + 1) + ")",
            Op.PlaneSum => "Σ_nc(" + Inline(s, n.Args[0], depth + 1) + ")",
            _ => Expr(s, root).Split('(')[0] + "(" + string.Join(", ", n.Args.Select(a => Inline(s, a, depth + 1))) + ")",
        };
    }

    private static string Wrap(ScheduleSpec s, int id, string text) =>
        s.Graph[id].Op is Op.Add or Op.Sub or Op.Div or Op.Mul or Op.Neg ? "(" + text + ")" : text;

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
