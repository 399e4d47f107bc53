using System.Linq;
using LossDsl.Generators.Model;
using LossDsl.Generators.Schedule;

namespace LossDsl.Generators.Emit;

/// <summary>
/// Emits <c>L.Reference</c>: the declared terms evaluated by the DSL's reference interpreter (double precision, plain
/// loops). Slow and obviously right; every backend is tested against it. Its locals start with <c>__</c> and the methods
/// it calls are fully qualified, so that no input name (the parameters are named after the declared inputs, such as <c>p</c>
/// or <c>PlaneLosses</c>) can collide with them.
/// </summary>
internal static class ReferenceEmitter
{
    public static string Emit(ScheduleSpec s)
    {
        var spec = s.Spec;
        return Shell.Write(spec, w =>
        {
            w.Doc("summary", "The reference interpreter for this loss: the declared terms evaluated in double precision with\nstraightforward loops. Slow; use it to check a backend, not to train.");
            w.Line(Shell.GeneratedCode);
            w.Open("public static class Reference");

            string prms = Shell.Params(spec, i => i.Role == InputRole.Logits ? "global::LossDsl.Logits" : "global::LossDsl.Target");
            string args = string.Join(", ", spec.Inputs.Select(i => "@" + i.Name));
            w.Doc("summary", "The loss of every (n, c) plane: the weighted sum of the terms.");
            w.Line($"public static double[] PlaneLosses({prms})");
            w.Line("{");
            w.Line($"    var __shape = @{spec.Inputs[0].Name}.Shape;");
            w.Line("    var __loss = new double[__shape.Planes];");
            foreach (var t in spec.Terms)
            {
                string call = Call(spec, t.Reference);
                string value = t.IsBatch ? $"__{t.Name}" : $"__{t.Name}[__p]";
                w.Line(t.IsBatch ? $"    double __{t.Name} = {call}.Value;" : $"    var __{t.Name} = {call}.Values;");
                if (t.IncludeBackground)
                {
                    w.Line($"    for (int __p = 0; __p < __loss.Length; __p++) __loss[__p] += {CodeWriter.Num(t.Weight)} * {value};");
                    continue;
                }

                // Without the background channel: nothing on channel 0, and the mean taken over the other channels.
                string scale = spec.Reduction == ReductionKind.Mean ? " * ((double)__shape.C / (__shape.C - 1))" : string.Empty;
                w.Line("    if (__shape.C == 1)");
                w.Line("    {");
                w.Line($"        for (int __p = 0; __p < __loss.Length; __p++) __loss[__p] += {CodeWriter.Num(t.Weight)} * {value};");
                w.Line("    }");
                w.Line("    else");
                w.Line("    {");
                w.Line($"        for (int __p = 0; __p < __loss.Length; __p++) if (__p % __shape.C != 0) __loss[__p] += {CodeWriter.Num(t.Weight)} * {value}{scale};");
                w.Line("    }");
            }

            w.Line("    return __loss;");
            w.Line("}");
            w.Line();
            w.Doc("summary", $"The loss reduced over planes as declared (reduction {spec.Reduction}; None reduces by sum).");
            w.Line($"public static double Compute({prms})");
            w.Line("{");
            w.Line($"    var __loss = {Shell.Qualified(spec)}.Reference.PlaneLosses({args});");
            w.Line("    double __total = 0;");
            w.Line("    foreach (double __v in __loss) __total += __v;");
            w.Line(spec.Reduction == ReductionKind.Mean ? "    return __total / __loss.Length;" : "    return __total;");
            w.Line("}");
            if (spec.AttributeForm)
            {
                w.Line();
                w.Line($"private static global::LossDsl.Field Ones(global::LossDsl.Field like) => new global::LossDsl.Field(like.Shape, global::System.Linq.Enumerable.ToArray(global::System.Linq.Enumerable.Repeat(1.0, like.Shape.Length)));");
            }

            w.Close();
        });
    }

    /// <summary>A reference call as C#: owners fully qualified, inputs as the entry point's parameters, numbers as literals.</summary>
    private static string Call(LossSpec spec, ReferenceCall call)
    {
        string owner = call.Owner switch
        {
            CallOwner.LossClass => Shell.Qualified(spec) + ".",
            CallOwner.Prelude => "global::LossDsl.Prelude.",
            _ => string.Empty,
        };
        return $"{owner}{call.Method}({string.Join(", ", call.Args.Select(a => Arg(spec, a)))})";
    }

    private static string Arg(LossSpec spec, ReferenceArg arg) => arg switch
    {
        ReferenceArg.Input i => Shell.Id(i.Name),
        ReferenceArg.Number { Integer: true } n => ((long)n.Value).ToString(System.Globalization.CultureInfo.InvariantCulture),
        ReferenceArg.Number n => CodeWriter.Num(n.Value),
        ReferenceArg.Nested c => Call(spec, c.Call),
        _ => throw new System.ArgumentOutOfRangeException(nameof(arg)),
    };
}
