using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using LossDsl.Generators.Model;
using LossDsl.Generators.Schedule;

namespace LossDsl.Generators.Kernels;

/// <summary>
/// The name of every value of a schedule, the same in the generated code of every backend, its comments and the schedule
/// listing. A value the user named (a local such as <c>p</c>, a helper's parameter such as <c>weight</c>) is called by that
/// name with a trailing underscore (<c>p_</c>): no backend's own identifiers end in one, so the name cannot clash with
/// them, and a PR diff of the generated code reads like a diff of the declaration. A second value of the same name gets a
/// number (<c>p_2</c>). Every other value is <c>v</c> and its node id; the seed is <c>seed</c>.
/// </summary>
internal static class ValueNames
{
    public static string[] Of(ScheduleSpec s)
    {
        var g = s.Graph;
        var user = s.Spec.Names.Where(n => n.Kind != NameKind.Call).ToDictionary(n => n.Node, n => n.Name);
        var taken = new HashSet<string>(s.Spec.Inputs.Select(i => i.Name));
        var names = new string[g.Count];
        for (int id = 0; id < g.Count; id++)
        {
            names[id] = g[id].Op == Op.Seed ? "seed"
                : user.TryGetValue(id, out var name) ? Unique(name + "_", taken)
                : "v" + id.ToString(CultureInfo.InvariantCulture);
        }

        return names;
    }

    private static string Unique(string name, HashSet<string> taken)
    {
        string candidate = name;
        for (int k = 2; !taken.Add(candidate); k++)
        {
            candidate = name + k.ToString(CultureInfo.InvariantCulture);
        }

        return candidate;
    }
}
