using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using LossDsl.Generators.Model;
using LossDsl.Generators.Schedule;

namespace LossDsl.Generators.Emit;

/// <summary>
/// The loss card: the opening comment of every generated file, written for the person who reviews a loss against its
/// paper. It says where the loss is declared and with which options, then gives the loss and its derived gradient in plain
/// math over the user's own names — terms, locals (<c>p</c>, <c>inter</c>), helper calls (<c>Weight(mask)</c>) — with the
/// per-plane factors of the gradient named and defined. Values the user did not name are written out inline.
/// </summary>
internal static class LossCard
{
    /// <summary>The card as comment lines (each starting with <c>// </c>), for a loss declared at <paramref name="where"/>.</summary>
    public static string Render(ScheduleSpec s, string? where)
    {
        var spec = s.Spec;
        var lines = new List<string>
        {
            $"Loss card: {spec.Type.FullName}" + (where is null ? string.Empty : $", declared at {where}"),
            $"options: reduction {spec.Reduction}, backends {Backends(spec.Backends)}, {(spec.AttributeForm ? "attribute form" : "method form")}",
            "inputs: " + string.Join(", ", spec.Inputs.Select(i => $"{i.Name} ({(i.Role == InputRole.Logits ? "logits" : "target")}, N×C×H×W)")),
            string.Empty,
            "per plane (one image, one channel; Σ sums over its H×W pixels):",
        };

        var names = new Dictionary<int, string>();
        foreach (var n in spec.Names)
        {
            names[n.Node] = n.Name;
        }

        var terms = new HashSet<int>(spec.Terms.Select(t => t.Root));
        var reachable = s.Graph.Reachable(spec.Terms.Select(t => t.Root));
        var definitions = Enumerable.Range(0, s.Graph.Count).Where(id => reachable[id] && names.ContainsKey(id) && !terms.Contains(id)).ToList();
        foreach (var t in spec.Terms)
        {
            // Elsewhere (in another term, in the gradient) a term's value is called by the term's name.
            if (!names.ContainsKey(t.Root))
            {
                names[t.Root] = t.Name;
            }
        }

        var aux = new Auxiliaries();
        var text = new Renderer(s, names, aux);
        void Line(string indent, string left, string right, string note = "")
        {
            // Values too long to write inline were named while rendering the right-hand side: define them first.
            lines.AddRange(aux.Flush().Select(a => $"{indent}{a.Name} = {a.Text}"));
            lines.Add($"{indent}{left} = {right}{note}");
        }

        foreach (int id in definitions)
        {
            Line("  ", names[id], text.Top(id));
        }

        foreach (var t in spec.Terms)
        {
            Line("  ", t.Name, text.Top(t.Root), t.IsBatch ? "   (one value for the whole batch)" : string.Empty);
        }

        lines.Add("  loss = " + string.Join(" + ", spec.Terms.Select(t => t.Weight == 1 ? t.Name : $"{MathText.Short(t.Weight)}·{t.Name}")));
        lines.Add(spec.Reduction switch
        {
            ReductionKind.Mean => "L = mean of loss over the N·C planes",
            ReductionKind.Sum => "L = Σ of loss over the N·C planes",
            _ => "L = loss of every plane (reduction None: the caller reduces)",
        });

        foreach (var g in s.Gradients)
        {
            var factors = new Renderer(s, names, aux, factorPrefix: "c");
            string input = spec.Inputs[g.Input].Name;
            lines.Add(string.Empty);
            lines.Add($"gradient, per pixel of a plane (seed = ∂L/∂loss of the plane: {Seed(spec.Reduction)}):");
            Line("  ", $"∂L/∂{input}", factors.Top(g.Node));
            if (factors.Factors.Count > 0)
            {
                lines.Add("  with the per-plane factors");
                for (int i = 0; i < factors.Factors.Count; i++)
                {
                    int id = factors.Factors[i];
                    Line("    ", factors.FactorName(id), factors.Definition(id));
                }
            }
        }

        return string.Concat(lines.Select(l => (l.Length == 0 ? "//" : "// " + l) + "\n"));
    }

    private static string Seed(ReductionKind r) => r switch
    {
        ReductionKind.Mean => "1/(N·C)",
        ReductionKind.Sum => "1",
        _ => "the caller's upstream gradient of the plane",
    };

    private static string Backends(BackendSet b) =>
        string.Join(", ", new[] { (BackendSet.Cpu, "CPU"), (BackendSet.TorchSharp, "TorchSharp"), (BackendSet.Ilgpu, "ILGPU") }
            .Where(x => b.HasFlag(x.Item1)).Select(x => x.Item2));

    /// <summary>
    /// Values the user did not name whose text is too long to repeat inline (<c>t1</c>, <c>t2</c>, …), numbered across the
    /// card and defined just before the line that first uses them. They keep the card, and the work of writing it, linear
    /// in the size of the loss whatever the sharing in its graph.
    /// </summary>
    private sealed class Auxiliaries
    {
        private readonly List<(string Name, string Text)> _pending = new();
        private int _count;

        public const int MaxInline = 100;

        public string Add(string text)
        {
            string name = "t" + (++_count).ToString(CultureInfo.InvariantCulture);
            _pending.Add((name, text));
            return name;
        }

        public List<(string Name, string Text)> Flush()
        {
            var list = new List<(string Name, string Text)>(_pending);
            _pending.Clear();
            return list;
        }
    }

    /// <summary>Plain math with precedence: 1 additive, 2 multiplicative, 3 unary minus, 4 atoms, calls and sums.</summary>
    private sealed class Renderer
    {
        private readonly ScheduleSpec _s;
        private readonly Dictionary<int, string> _names;
        private readonly Auxiliaries _aux;
        private readonly string? _factorPrefix;
        private readonly Dictionary<int, string> _factorNames = new();
        private readonly Dictionary<int, (string Text, int Prec)> _memo = new();

        public Renderer(ScheduleSpec s, Dictionary<int, string> names, Auxiliaries aux, string? factorPrefix = null)
        {
            _s = s;
            _names = names;
            _aux = aux;
            _factorPrefix = factorPrefix;
        }

        /// <summary>The per-plane factors met while rendering, in the order they were named.</summary>
        public List<int> Factors { get; } = new();

        public string FactorName(int id) => _factorNames[id];

        /// <summary>A node written out (its own name is not used; its arguments' names are).</summary>
        public string Top(int id)
        {
            // Render what lies below bottom-up (ids are in dependency order), so that no rendering recurses deeper than one
            // level whatever the depth of the graph: the generator runs on the compiler's stack.
            foreach (int below in Below(id))
            {
                Expr(below);
            }

            return Expr(id, top: true).Text;
        }

        /// <summary>True where rendering stops and a name is written instead: the user's names and the per-plane factors.</summary>
        private bool Stops(int id) =>
            _names.ContainsKey(id) || _factorNames.ContainsKey(id) || (_factorPrefix is not null && IsFactor(_s.Graph[id]));

        private static bool IsFactor(Node n) => n.Rank is Rank.Plane or Rank.Batch && OpTable.Get(n.Op).Class != OpClass.Leaf;

        /// <summary>The nodes a rendering of <paramref name="root"/> writes out, in increasing id (dependency) order.</summary>
        private List<int> Below(int root)
        {
            var seen = new HashSet<int>();
            var stack = new Stack<int>(_s.Graph[root].Args);
            while (stack.Count > 0)
            {
                int id = stack.Pop();
                if (_memo.ContainsKey(id) || Stops(id) || !seen.Add(id))
                {
                    continue;
                }

                foreach (int a in _s.Graph[id].Args)
                {
                    stack.Push(a);
                }
            }

            var list = seen.ToList();
            list.Sort();
            return list;
        }

        /// <summary>A factor's definition: written out over the user's names and the factors named before it.</summary>
        public string Definition(int id)
        {
            var known = new Dictionary<int, string>(_names);
            foreach (int f in Factors.TakeWhile(f => f != id))
            {
                known[f] = _factorNames[f];
            }

            return new Renderer(_s, known, _aux).Top(id);
        }

        private (string Text, int Prec) Expr(int id, bool top = false)
        {
            if (top)
            {
                return Render(id, top: true);
            }

            if (!_memo.TryGetValue(id, out var r))
            {
                r = Render(id, top: false);
                if (r.Text.Length > Auxiliaries.MaxInline)
                {
                    r = (_aux.Add(r.Text), 4);
                }

                _memo[id] = r;
            }

            return r;
        }

        private (string Text, int Prec) Render(int id, bool top)
        {
            var n = _s.Graph[id];
            if (!top && _names.TryGetValue(id, out var name))
            {
                return (name, 4);
            }

            if (!top && _factorPrefix is not null && IsFactor(n))
            {
                if (!_factorNames.TryGetValue(id, out var f))
                {
                    f = _factorPrefix + (Factors.Count + 1).ToString(CultureInfo.InvariantCulture);
                    _factorNames[id] = f;
                    Factors.Add(id);
                }

                return (f, 4);
            }

            string A(int i, int needs, bool strict = false)
            {
                var (t, p) = Expr(n.Args[i]);
                return p < needs || (strict && p == needs) ? "(" + t + ")" : t;
            }

            string Whole(int i) => Expr(n.Args[i]).Text;
            string K(double v) => MathText.Short(v);
            if (MathText.Leaf(_s, n) is { } leaf)
            {
                return (leaf, n.Op == Op.Const && n.Value < 0 ? 3 : 4);
            }

            switch (n.Op)
            {
                case Op.Add when _s.Graph[n.Args[1]].Op == Op.Neg:
                    return ($"{A(0, 1)} - {Negated(n.Args[1])}", 1);
                case Op.Add:
                    return ($"{A(0, 1)} + {A(1, 1)}", 1);
                case Op.Sub:
                    return ($"{A(0, 1)} - {A(1, 1, strict: true)}", 1);
                case Op.Mul:
                    return ($"{A(0, 2)}·{A(1, 2)}", 2);
                case Op.Div:
                    return ($"{A(0, 2)} / {A(1, 2, strict: true)}", 2);
                case Op.Neg:
                    return ("-" + A(0, 2, strict: true), 3);
                case Op.Square:
                    return (A(0, 4) + "²", 4);
                case Op.Pow:
                    return ($"{A(0, 4)}^{K(n.Value)}", 4);
                case Op.Sum:
                    return ($"Σ({Whole(0)})", 4);
                case Op.BatchSum:
                    return ($"Σ_batch({Whole(0)})", 4);
                case Op.PlaneSum:
                    return ($"Σ_planes({Whole(0)})", 4);
                case Op.SumChannels:
                    return ($"Σ_c({Whole(0)})", 4);
                case Op.ImageSum when _s.Graph[n.Args[0]].Op == Op.Sum:
                    return ($"Σ_class({Expr(_s.Graph[n.Args[0]].Args[0]).Text})", 4);
                case Op.ImageSum:
                    return ($"Σ_n({Whole(0)})", 4);
                case Op.AvgPool:
                case Op.MaxPool:
                case Op.MinPool:
                    return ($"{OpTable.Get(n.Op).DslName!.Replace("Pool", "_pool").ToLowerInvariant()}({Whole(0)}, {n.Kernel.ToString(CultureInfo.InvariantCulture)})", 4);
                default:
                    var row = OpTable.Get(n.Op);
                    var args = n.Args.Select(a => Expr(a).Text).ToArray();
                    return (Template.Fill(row.Text, args, K(n.Value), K(n.Value2)), 4);
            }

            string Negated(int neg)
            {
                var (t, p) = Expr(_s.Graph[neg].Args[0]);
                return p <= 1 ? "(" + t + ")" : t;
            }
        }
    }
}
