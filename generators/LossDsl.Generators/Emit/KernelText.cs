using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using LossDsl.Generators.Kernels;

namespace LossDsl.Generators.Emit;

/// <summary>The kernel program as text, for the generated doc comments (the same for every backend).</summary>
internal static class KernelText
{
    /// <summary>One line per kernel: name, domain, role, what it reads and writes; then the buffers and the field traffic.</summary>
    public static string Describe(KernelProgram p)
    {
        var w = new CodeWriter();
        w.Line("kernels:");
        foreach (var k in p.Kernels)
        {
            var reads = k.Reads.Select(o => Buffer(p, o)).Where(x => x is not null).Select(x => x!)
                .Concat(k.Body.Where(s => s is SumPlanesStatement or SumOverImagesStatement).Select(_ => "plane table")).Distinct().ToList();
            var writes = Writes(p, k).Distinct().ToList();
            string role = k.Role switch { KernelRole.Target => "target-only", KernelRole.Backward => "backward", _ => "forward" };
            w.Line($"  {k.Name} ({Domain(k.Domain)}, {role}): reads {List(reads)}; writes {List(writes)}");
        }

        if (p.Fields.Count > 0)
        {
            w.Line("field buffers: " + string.Join(", ", p.Fields.Select(f => $"f{Int(f.Index)} = {MathText.Name(p, f.Node)} ({f.Purpose})")));
        }

        w.Line($"plane table: {Int(p.PlaneSlots.Count)} slots per plane; batch table: {Int(p.BatchSlots.Count)} slots");
        w.Line($"per-pixel traffic of forward + backward: {Int(p.FieldPasses)} passes over N·C·H·W elements");
        return w.ToString();
    }

    /// <summary>A slot list for a comment: <c>0: v12 (plane loss), 1: v15 (sum)</c>.</summary>
    public static string Slots(KernelProgram p, IEnumerable<Slot> slots) =>
        string.Join(", ", slots.Select(s => $"{Int(s.Index)}: {(s.Node >= 0 ? MathText.Name(p, s.Node) : "-")} ({s.Purpose})"));

    private static string Domain(Kernels.Domain d) => d switch
    {
        Kernels.Domain.Pixels => "per pixel",
        Kernels.Domain.Filter => "separable filter per plane",
        Kernels.Domain.Planes => "per plane",
        _ => "once",
    };

    private static string? Buffer(KernelProgram p, Operand o) => o.Kind switch
    {
        OperandKind.Input => p.Spec.Inputs[o.Index].Name,
        OperandKind.Field => "f" + Int(o.Index),
        OperandKind.PlaneSlot => "plane table",
        OperandKind.BatchSlot => "batch table",
        _ => null,
    };

    private static IEnumerable<string> Writes(KernelProgram p, Kernel k)
    {
        foreach (var s in k.Body)
        {
            switch (s)
            {
                case AccumulateStatement or StorePlaneStatement:
                    yield return "plane table";
                    break;
                case StoreBatchStatement:
                    yield return "batch table";
                    break;
                case StoreFieldStatement f:
                    yield return "f" + Int(f.Buffer);
                    break;
                case FilterStatement f:
                    yield return "f" + Int(f.Destination);
                    break;
                case StoreGradientStatement g:
                    yield return "d/d" + p.Spec.Inputs[g.Input].Name;
                    break;
                case StorePlaneLossStatement:
                    yield return "plane losses";
                    break;
                case ResultStatement:
                    yield return "the loss";
                    break;
            }
        }
    }

    private static string List(IReadOnlyCollection<string> items) => items.Count == 0 ? "nothing" : string.Join(", ", items);

    private static string Int(int v) => v.ToString(CultureInfo.InvariantCulture);
}
