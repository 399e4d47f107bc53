using System.Collections.Generic;
using System.Linq;
using LossDsl.Generators.Model;
using LossDsl.Generators.Schedule;

namespace LossDsl.Generators.Emit;

/// <summary>
/// Emits <c>L.Cpu</c>: the schedule printed as plain C# — a stencil pre-pass through <c>LossDsl.Cpu.Stencils</c>, one
/// fused forward sweep and one backward sweep over contiguous chunks of rows (SIMD over <c>Vector256</c> with a scalar
/// tail, chunks in parallel, partial sums in double combined in a fixed order so results do not depend on the thread count),
/// and the per-plane epilogue in double. Emitted once for <c>float</c> and once for <c>double</c>.
/// </summary>
internal static class CpuEmitter
{
    private const string V = "global::System.Runtime.Intrinsics.Vector256";
    private const string VM = "global::LossDsl.Cpu.VectorMath";
    private const string SM = "global::LossDsl.Scalar";

    public static string Emit(ScheduleSpec s)
    {
        var spec = s.Spec;
        return Shell.Write(spec, w =>
        {
            w.Doc("summary", CpuDoc(s));
            w.Line(Shell.GeneratedCode);
            w.Open("public static class Cpu");
            foreach (var t in new[] { "float", "double" })
            {
                EmitEntryPoints(w, s, t);
            }

            foreach (var t in new[] { "float", "double" })
            {
                new KernelWriter(s, t, w).Emit();
            }

            w.Close();
        });
    }

    internal static string GradName(InputSpec input) => Shell.GradName(input.Name);

    private static string CpuDoc(ScheduleSpec s)
    {
        var lines = new List<string>
        {
            "Fused CPU backend (generated from the schedule below; vectorised, multi-threaded, no native dependency).",
            "<code>",
        };
        lines.AddRange(MathText.Dump(s).TrimEnd('\n').Split('\n').Select(l => System.Security.SecurityElement.Escape(l)));
        lines.Add("</code>");
        return string.Join("\n", lines);
    }

    private static void EmitEntryPoints(CodeWriter w, ScheduleSpec s, string t)
    {
        var spec = s.Spec;
        string ins = Shell.Params(spec, _ => $"global::System.ReadOnlySpan<{t}>");
        string grads = string.Join(", ", spec.Inputs.Where(i => i.Role == InputRole.Logits).Select(i => $"global::System.Span<{t}> @{GradName(i)}"));
        string insArgs = string.Join(", ", spec.Inputs.Select(i => "@" + i.Name));
        string gradArgs = string.Join(", ", spec.Inputs.Where(i => i.Role == InputRole.Logits).Select(i => "@" + GradName(i)));
        // The entry points are the only methods whose parameters carry the inputs' names: they refer to the kernel class by its
        // qualified name (an input may be called Float32 or Cpu) and use no locals of their own.
        string kernel = Shell.Qualified(spec) + ".Cpu." + (t == "float" ? "Float32" : "Float64");
        string reduced = spec.Reduction switch
        {
            ReductionKind.Mean => "the mean over the N×C planes of the per-plane loss",
            ReductionKind.Sum => "the sum over the N×C planes of the per-plane loss",
            _ => "the sum over the N×C planes of the per-plane loss (Reduction.None: use the overload with a <c>planeLosses</c> span for each plane's value)",
        };

        w.Doc("summary", $"Computes the loss — {reduced} — and, where a gradient span is not empty, writes d loss / d input into it.");
        foreach (var i in spec.Inputs)
        {
            w.Line($"/// <param name=\"{i.Name}\">{(i.Role == InputRole.Logits ? "Logits" : "Target")}, contiguous NCHW, <c>shape.Length</c> values.</param>");
        }

        foreach (var i in spec.Inputs.Where(i => i.Role == InputRole.Logits))
        {
            w.Line($"/// <param name=\"{GradName(i)}\">Receives d loss / d {i.Name} (same length), or empty to skip the backward sweep.</param>");
        }

        w.Line("/// <param name=\"shape\">The NCHW shape.</param>");
        w.Line("/// <returns>The loss.</returns>");
        w.Line("/// <exception cref=\"global::System.ArgumentException\">A span's length does not match <paramref name=\"shape\"/>.</exception>");
        w.Line($"public static {t} Compute({ins}, {grads}, global::LossDsl.LossShape shape) =>");
        w.Line($"    ({t}){kernel}.Run({insArgs}, {gradArgs}, default, default, shape);");
        w.Line();

        w.Doc("summary", "Computes the loss as <see cref=\"Compute(" + string.Join(", ", spec.Inputs.Select(_ => $"global::System.ReadOnlySpan{{{t}}}")) + ", " + string.Join(", ", spec.Inputs.Where(i => i.Role == InputRole.Logits).Select(_ => $"global::System.Span{{{t}}}")) + ", global::LossDsl.LossShape)\"/> and also writes each plane's loss.");
        foreach (var i in spec.Inputs)
        {
            w.Line($"/// <param name=\"{i.Name}\">{(i.Role == InputRole.Logits ? "Logits" : "Target")}, contiguous NCHW.</param>");
        }

        foreach (var i in spec.Inputs.Where(i => i.Role == InputRole.Logits))
        {
            w.Line($"/// <param name=\"{GradName(i)}\">Receives d loss / d {i.Name}, or empty.</param>");
        }

        w.Line("/// <param name=\"planeLosses\">Receives the N·C per-plane losses.</param>");
        w.Line("/// <param name=\"shape\">The NCHW shape.</param>");
        w.Line("/// <returns>The loss.</returns>");
        w.Line($"public static {t} Compute({ins}, {grads}, global::System.Span<{t}> planeLosses, global::LossDsl.LossShape shape) =>");
        w.Line($"    ({t}){kernel}.Run({insArgs}, {gradArgs}, planeLosses, default, shape);");
        w.Line();

        w.Doc("summary", "As the overload with <c>planeLosses</c>; when <paramref name=\"__reuseTargetWork\"/> is true and the previous call of this\n" +
            "element type's kernel on this thread had the same shape, the target-only pre-pass (stencils) is skipped and its buffers reused.\n" +
            "The caller guarantees that the targets hold the same values as in that call (deep supervision: several predictions, one target).");
        w.Line($"internal static {t} Compute({ins}, {grads}, global::System.Span<{t}> planeLosses, global::LossDsl.LossShape shape, bool __reuseTargetWork) =>");
        w.Line($"    ({t}){kernel}.Run({insArgs}, {gradArgs}, planeLosses, default, shape, __reuseTargetWork);");
        w.Line();

        w.Doc("summary", "Writes the gradient of Σ_p planeSeeds[p] · loss_p (the backward of the per-plane losses for an upstream gradient per plane).");
        foreach (var i in spec.Inputs)
        {
            w.Line($"/// <param name=\"{i.Name}\">{(i.Role == InputRole.Logits ? "Logits" : "Target")}, contiguous NCHW.</param>");
        }

        w.Line("/// <param name=\"planeSeeds\">The upstream gradient of each plane's loss (N·C values).</param>");
        foreach (var i in spec.Inputs.Where(i => i.Role == InputRole.Logits))
        {
            w.Line($"/// <param name=\"{GradName(i)}\">Receives the gradient.</param>");
        }

        w.Line("/// <param name=\"shape\">The NCHW shape.</param>");
        w.Open($"public static void Backward({ins}, global::System.ReadOnlySpan<{t}> planeSeeds, {grads}, global::LossDsl.LossShape shape)");
        w.Line($"if (planeSeeds.Length != shape.Planes) throw new global::System.ArgumentException($\"Expected {{shape.Planes}} plane seeds for shape {{shape}}; got {{planeSeeds.Length}}.\", \"planeSeeds\");");
        w.Line($"{kernel}.Run({insArgs}, {gradArgs}, default, planeSeeds, shape);");
        w.Close();
        w.Line();
    }

    /// <summary>Prints one element type's kernel class.</summary>
    private sealed class KernelWriter
    {
        private readonly ScheduleSpec _s;
        private readonly Graph _g;
        private readonly string _t;
        private readonly string _cls;
        private readonly CodeWriter _w;
        private readonly List<InputSpec> _inputs;
        private readonly List<int> _logits;

        public KernelWriter(ScheduleSpec s, string t, CodeWriter w)
        {
            _s = s;
            _g = s.Graph;
            _t = t;
            _cls = t == "float" ? "Float32" : "Float64";
            _w = w;
            _inputs = s.Spec.Inputs.ToList();
            _logits = Enumerable.Range(0, _inputs.Count).Where(i => _inputs[i].Role == InputRole.Logits).ToList();
        }

        private string Vt => $"{V}<{_t}>";

        private string Lit(double c) => _t == "float" ? CodeWriter.Num(c) + "f" : CodeWriter.Num(c);

        public void Emit()
        {
            var w = _w;
            var spec = _s.Spec;
            w.Line($"private sealed unsafe class {_cls}");
            w.Line("{");
            w.Line("    /// <summary>Pixels per parallel chunk (whole rows of one plane); fixed, so sums do not depend on the thread count.</summary>");
            w.Line("    private const int ChunkPixels = 16384;");
            w.Line($"    private const int Accumulators = {_s.Accumulators.Count};");
            w.Line();
            w.Line("    [global::System.ThreadStatic]");
            w.Line($"    private static {_cls}? s_cached;");
            w.Line();
            w.Line("    private readonly global::LossDsl.Cpu.ChunkRunner _runner = new();");
            w.Line("    private readonly global::System.Action<int> _forward;");
            w.Line("    private readonly global::System.Action<int> _backward;");
            if (_s.Stencils.Count > 0)
            {
                w.Line("    private readonly global::System.Action<int> _stencils;");
            }

            foreach (int i in Enumerable.Range(0, _inputs.Count))
            {
                w.Line($"    private {_t}* _in{i}; // {_inputs[i].Name}");
            }

            foreach (int i in _logits)
            {
                w.Line($"    private {_t}* _grad{i}; // d/d {_inputs[i].Name}");
            }

            w.Line("    private global::LossDsl.LossShape _shape;");
            w.Line("    private int _rowsPerChunk, _chunksPerPlane;");
            w.Line("    private double[] _partials = global::System.Array.Empty<double>();");
            w.Line("    private double[] _sums = global::System.Array.Empty<double>();");
            if (_s.Stencils.Count > 0)
            {
                w.Line("    private double[] _tmp = global::System.Array.Empty<double>();");
                w.Line("    private global::LossDsl.LossShape _stencilShape;");
                w.Line("    private bool _stencilsValid;");
            }

            foreach (var st in _s.Stencils)
            {
                w.Line($"    private {_t}[] _st{st.Node} = global::System.Array.Empty<{_t}>(); // {MathText.Expr(_s, st.Node)}");
                if (!IsInput(st.Source))
                {
                    w.Line($"    private {_t}[] _src{st.Node} = global::System.Array.Empty<{_t}>(); // source of v{st.Node}");
                }
            }

            foreach (int p in _s.SavedPlanes)
            {
                w.Line($"    private double[] _pv{p} = global::System.Array.Empty<double>(); // {MathText.Expr(_s, p)}");
            }

            foreach (int b in _s.SavedBatch)
            {
                w.Line($"    private double _bv{b}; // {MathText.Expr(_s, b)}");
            }

            foreach (int x in _s.ShapeScalars)
            {
                w.Line($"    private double _sv{x}; // {MathText.Expr(_s, x)}");
            }

            w.Line();
            w.Line($"    private {_cls}()");
            w.Line("    {");
            w.Line("        _forward = Forward;");
            w.Line("        _backward = Backward;");
            if (_s.Stencils.Count > 0)
            {
                w.Line("        _stencils = StencilPlane;");
            }

            w.Line("    }");
            w.Line();
            EmitRun();
            EmitExecute();
            EmitStencils();
            EmitSweep(forward: true);
            EmitSweep(forward: false);
            w.Line("}");
            w.Line();
        }

        private bool IsInput(int id) => _g[id].Op == Op.Input;

        private void EmitRun()
        {
            var w = _w;
            // The inputs' names appear only in messages: the parameters are in0…, grad0… (an input may be called k or p0).
            string ins = string.Join(", ", _inputs.Select((_, i) => $"global::System.ReadOnlySpan<{_t}> in{i}"));
            string grads = string.Join(", ", _logits.Select(i => $"global::System.Span<{_t}> grad{i}"));
            w.Line($"    public static double Run({ins}, {grads}, global::System.Span<{_t}> planeLosses, global::System.ReadOnlySpan<{_t}> planeSeeds, global::LossDsl.LossShape shape, bool reuseTargetWork = false)");
            w.Line("    {");
            w.Line("        shape.Validate(nameof(shape));");
            for (int i = 0; i < _inputs.Count; i++)
            {
                w.Line($"        if (in{i}.Length != shape.Length) throw new global::System.ArgumentException($\"Expected {{shape.Length}} values for shape {{shape}}; got {{in{i}.Length}}.\", \"{_inputs[i].Name}\");");
            }

            foreach (int i in _logits)
            {
                string g = "grad" + i;
                w.Line($"        if (!{g}.IsEmpty && {g}.Length != shape.Length) throw new global::System.ArgumentException($\"Expected {{shape.Length}} gradient values for shape {{shape}} (or an empty span); got {{{g}.Length}}.\", \"{GradName(_inputs[i])}\");");
            }

            w.Line("        if (!planeLosses.IsEmpty && planeLosses.Length != shape.Planes) throw new global::System.ArgumentException($\"Expected {shape.Planes} plane losses for shape {shape}; got {planeLosses.Length}.\", nameof(planeLosses));");
            w.Line($"        var k = s_cached ?? new {_cls}();");
            w.Line("        s_cached = null;");
            string fixes = string.Join(", ", _inputs.Select((_, n) => $"p{n} = in{n}").Concat(_logits.Select(n => $"g{n} = grad{n}")));
            w.Line($"        fixed ({_t}* {fixes})");
            w.Line("        {");
            w.Line("            try");
            w.Line("            {");
            w.Line("                return k.Execute(" + string.Join(", ", Enumerable.Range(0, _inputs.Count).Select(n => "p" + n).Concat(_logits.Select(n => "g" + n))) + ", planeLosses, planeSeeds, shape, reuseTargetWork);");
            w.Line("            }");
            w.Line("            finally");
            w.Line("            {");
            w.Line("                " + string.Join(" ", Enumerable.Range(0, _inputs.Count).Select(n => $"k._in{n} = null;").Concat(_logits.Select(n => $"k._grad{n} = null;"))));
            w.Line("                s_cached = k;");
            w.Line("            }");
            w.Line("        }");
            w.Line("    }");
            w.Line();
        }

        private void EmitExecute()
        {
            var w = _w;
            var spec = _s.Spec;
            string ptrs = string.Join(", ", Enumerable.Range(0, _inputs.Count).Select(n => $"{_t}* p{n}").Concat(_logits.Select(n => $"{_t}* g{n}")));
            w.Line($"    private double Execute({ptrs}, global::System.Span<{_t}> planeLosses, global::System.ReadOnlySpan<{_t}> planeSeeds, global::LossDsl.LossShape shape, bool reuseTargetWork)");
            w.Line("    {");
            w.Line("        " + string.Join(" ", Enumerable.Range(0, _inputs.Count).Select(n => $"_in{n} = p{n};").Concat(_logits.Select(n => $"_grad{n} = g{n};"))));
            w.Line("        _shape = shape;");
            w.Line("        int planes = shape.Planes, hw = shape.PlaneSize, length = shape.Length;");
            w.Line("        _rowsPerChunk = global::System.Math.Max(1, global::System.Math.Min(shape.H, ChunkPixels / shape.W));");
            w.Line("        _chunksPerPlane = (shape.H + _rowsPerChunk - 1) / _rowsPerChunk;");
            w.Line("        int chunks = planes * _chunksPerPlane;");
            w.Line("        Ensure(ref _partials, chunks * Accumulators);");
            w.Line("        Ensure(ref _sums, planes * Accumulators);");
            foreach (var st in _s.Stencils)
            {
                w.Line($"        Ensure(ref _st{st.Node}, length);");
                if (!IsInput(st.Source))
                {
                    w.Line($"        Ensure(ref _src{st.Node}, length);");
                }
            }

            if (_s.Stencils.Count > 0)
            {
                w.Line("        Ensure(ref _tmp, length + (planes * shape.W));");
            }

            foreach (int p in _s.SavedPlanes)
            {
                w.Line($"        Ensure(ref _pv{p}, planes);");
            }

            foreach (int x in _s.ShapeScalars)
            {
                w.Line($"        _sv{x} = {DoubleExpr(x, ShapeName)};");
            }

            if (_s.Stencils.Count > 0)
            {
                w.Line();
                w.Line("        // Stencil pre-pass: target-only, one plane per task (skipped when the caller reuses the previous call's).");
                w.Line("        if (!reuseTargetWork || !_stencilsValid || _stencilShape != shape)");
                w.Line("        {");
                w.Line("            _stencilsValid = false;");
                w.Line("            _runner.Run(planes, _stencils);");
                w.Line("            _stencilShape = shape;");
                w.Line("            _stencilsValid = true;");
                w.Line("        }");
            }

            w.Line();
            w.Line("        // Forward sweep: every reduction in one pass.");
            w.Line("        _runner.Run(chunks, _forward);");
            w.Line("        for (int p = 0; p < planes; p++)");
            w.Line("        {");
            w.Line("            for (int a = 0; a < Accumulators; a++)");
            w.Line("            {");
            w.Line("                double s = 0;");
            w.Line("                for (int c = p * _chunksPerPlane; c < (p + 1) * _chunksPerPlane; c++) s += _partials[(c * Accumulators) + a];");
            w.Line("                _sums[(p * Accumulators) + a] = s;");
            w.Line("            }");
            w.Line("        }");
            w.Line();

            var batchSums = _s.Accumulators.Select((id, a) => (id, a)).Where(x => _g[x.id].Op == Op.BatchSum).ToList();
            if (batchSums.Count > 0 || _s.BatchForward.Count > 0)
            {
                w.Line("        // Batch epilogue.");
                foreach (var (id, a) in batchSums)
                {
                    w.Line($"        double bv{id} = 0; // {MathText.Expr(_s, id)}");
                    w.Line($"        for (int p = 0; p < planes; p++) bv{id} += _sums[(p * Accumulators) + {a}];");
                }

                foreach (int b in _s.BatchForward)
                {
                    w.Line($"        double bv{b} = {DoubleExpr(b, EpilogueName)}; // {MathText.Expr(_s, b)}");
                }
            }

            string defaultSeed = spec.Reduction == ReductionKind.Mean ? "1.0 / planes" : "1.0";
            w.Line("        // Plane epilogue: loss, seed and the adjoints the backward sweep reads.");
            w.Line("        double total = 0;");
            foreach (int ps in _s.PlaneSums)
            {
                w.Line($"        double bv{ps} = 0; // {MathText.Expr(_s, ps)}");
            }

            w.Line("        for (int p = 0; p < planes; p++)");
            w.Line("        {");
            w.Line($"            double seed = planeSeeds.IsEmpty ? {defaultSeed} : planeSeeds[p];");
            foreach (var (id, a) in _s.Accumulators.Select((id, a) => (id, a)).Where(x => _g[x.id].Op == Op.Sum))
            {
                w.Line($"            double v{id} = _sums[(p * Accumulators) + {a}]; // {MathText.Expr(_s, id)}");
            }

            foreach (int id in _s.PlaneStatements)
            {
                w.Line($"            double v{id} = {DoubleExpr(id, EpilogueName)}; // {MathText.Expr(_s, id)}");
            }

            w.Line($"            double loss = {EpilogueName(_s.PlaneLoss)};");
            w.Line($"            if (!planeLosses.IsEmpty) planeLosses[p] = ({_t})loss;");
            w.Line("            total += loss;");
            foreach (int p in _s.SavedPlanes)
            {
                w.Line($"            _pv{p}[p] = {EpilogueName(p)};");
            }

            foreach (int ps in _s.PlaneSums)
            {
                w.Line($"            bv{ps} += {EpilogueName(_g[ps].Args[0])};");
            }

            w.Line("        }");
            if (_s.BatchAdjoint.Count > 0)
            {
                w.Line("        // Batch adjoints.");
                foreach (int b in _s.BatchAdjoint)
                {
                    w.Line($"        double bv{b} = {DoubleExpr(b, EpilogueName)}; // {MathText.Expr(_s, b)}");
                }
            }

            foreach (int b in _s.SavedBatch)
            {
                w.Line($"        _bv{b} = bv{b};");
            }

            if (_logits.Count > 0)
            {
                w.Line();
                w.Line("        // Backward sweep: the gradient, recomputing per-pixel values.");
                w.Line($"        if ({string.Join(" || ", _logits.Select(n => $"g{n} != null"))})");
                w.Line("        {");
                w.Line("            _runner.Run(chunks, _backward);");
                w.Line("        }");
            }

            w.Line();
            w.Line(spec.Reduction == ReductionKind.Mean ? "        return total / planes;" : "        return total;");
            w.Line("    }");
            w.Line();
            w.Line("    private static void Ensure<T>(ref T[] buffer, int length)");
            w.Line("    {");
            w.Line("        if (buffer.Length < length) buffer = new T[length];");
            w.Line("    }");
            w.Line();
        }

        private void EmitStencils()
        {
            var w = _w;
            if (_s.Stencils.Count > 0)
            {
                w.Line("    [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]");
                w.Line("    private void StencilPlane(int p)");
                w.Line("    {");
                w.Line("        int h = _shape.H, w = _shape.W, hw = h * w;");
                w.Line("        long o = (long)p * hw;");
                w.Line($"        fixed (double* tmp = _tmp)");
                w.Line("        {");
                w.Line("            double* colSums = tmp + _shape.Length + ((long)p * w);");
                foreach (var st in _s.Stencils)
                {
                    w.Line($"            // v{st.Node} = {MathText.Expr(_s, st.Node)}");
                    w.Line($"            fixed ({_t}* dst = _st{st.Node})");
                    w.Line("            {");
                    string Call(string src) => st.Kind == Op.AvgPool
                        ? $"global::LossDsl.Cpu.Stencils.BoxFilter({src}, dst + o, h, w, {st.Kernel}, tmp + o, colSums);"
                        : $"global::LossDsl.Cpu.Stencils.ExtremumFilter({src}, dst + o, h, w, {st.Kernel}, tmp + o, min: {(st.Kind == Op.MinPool ? "true" : "false")});";
                    if (IsInput(st.Source))
                    {
                        w.Line("                " + Call($"_in{(int)_g[st.Source].Value} + o"));
                    }
                    else
                    {
                        w.Line($"                fixed ({_t}* src = _src{st.Node})");
                        w.Line("                {");
                        w.Line("                    for (long i = o; i < o + hw; i++)");
                        w.Line("                    {");
                        foreach (int id in st.SourceProgram)
                        {
                            w.Line($"                        {_t} v{id} = {ScalarExpr(id, PixelName)};");
                        }

                        w.Line($"                        src[i] = {PixelName(st.Source)};");
                        w.Line("                    }");
                        w.Line();
                        w.Line("                    " + Call("src + o"));
                        w.Line("                }");
                    }

                    w.Line("            }");
                }

                w.Line("        }");
                w.Line("    }");
                w.Line();
            }
        }

        // -------------------------------------------------------------- sweeps

        private void EmitSweep(bool forward)
        {
            var w = _w;
            var program = forward ? _s.ForwardProgram : _s.BackwardProgram;
            var outputs = forward ? _s.Accumulators.Select(a => _g[a].Args[0]).ToList() : _s.Gradients.Select(g => g.Node).ToList();
            w.Line("    [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]");
            w.Line($"    private void {(forward ? "Forward" : "Backward")}(int chunk)");
            w.Line("    {");
            w.Line("        int p = chunk / _chunksPerPlane;");
            w.Line("        int r0 = (chunk % _chunksPerPlane) * _rowsPerChunk;");
            w.Line("        int r1 = global::System.Math.Min(_shape.H, r0 + _rowsPerChunk);");
            w.Line("        long start = ((long)p * _shape.PlaneSize) + ((long)r0 * _shape.W);");
            w.Line("        long end = ((long)p * _shape.PlaneSize) + ((long)r1 * _shape.W);");

            // Values the per-pixel program reads that are constant over the chunk.
            var hoisted = program.SelectMany(id => _g[id].Args).Concat(outputs)
                .Where(id => _g[id].Rank != Rank.Field && _g[id].Op != Op.Const).Distinct().OrderBy(x => x).ToList();
            foreach (int id in hoisted)
            {
                string value = _g[id].Rank switch
                {
                    Rank.Plane => $"_pv{id}[p]",
                    Rank.Batch => $"_bv{id}",
                    _ => ShapeName(id),
                };
                w.Line($"        {_t} s{id} = ({_t}){value};");
                w.Line($"        var h{id} = {V}.Create(s{id});");
            }

            var stencilsRead = program.Where(id => _g[id].Op is Op.AvgPool or Op.MaxPool or Op.MinPool).ToList();
            foreach (int id in stencilsRead)
            {
                w.Line($"        fixed ({_t}* st{id} = _st{id})");
            }

            w.Line("        {");
            if (forward)
            {
                for (int a = 0; a < _s.Accumulators.Count; a++)
                {
                    w.Line($"            var acc{a} = {V}<double>.Zero; double sacc{a} = 0; // {MathText.Expr(_s, _s.Accumulators[a])}");
                }
            }

            w.Line("            long i = start;");
            w.Line($"            for (; i <= end - {V}<{_t}>.Count; i += {V}<{_t}>.Count)");
            w.Line("            {");
            foreach (int id in program)
            {
                w.Line($"                var v{id} = {VectorExpr(id)};");
            }

            if (forward)
            {
                for (int a = 0; a < _s.Accumulators.Count; a++)
                {
                    w.Line($"                acc{a} = {VM}.Accumulate(acc{a}, {VectorName(_g[_s.Accumulators[a]].Args[0])});");
                }
            }
            else
            {
                foreach (var g in _s.Gradients)
                {
                    w.Line($"                if (_grad{g.Input} != null) {V}.Store({VectorName(g.Node)}, _grad{g.Input} + i);");
                }
            }

            w.Line("            }");
            w.Line();
            w.Line("            for (; i < end; i++)");
            w.Line("            {");
            foreach (int id in program)
            {
                w.Line($"                {_t} v{id} = {ScalarExpr(id, PixelName)};");
            }

            if (forward)
            {
                for (int a = 0; a < _s.Accumulators.Count; a++)
                {
                    w.Line($"                sacc{a} += {PixelName(_g[_s.Accumulators[a]].Args[0])};");
                }
            }
            else
            {
                foreach (var g in _s.Gradients)
                {
                    w.Line($"                if (_grad{g.Input} != null) _grad{g.Input}[i] = {PixelName(g.Node)};");
                }
            }

            w.Line("            }");
            if (forward)
            {
                w.Line();
                for (int a = 0; a < _s.Accumulators.Count; a++)
                {
                    w.Line($"            _partials[(chunk * Accumulators) + {a}] = {V}.Sum(acc{a}) + sacc{a};");
                }
            }

            w.Line("        }");
            w.Line("    }");
            w.Line();
        }

        // -------------------------------------------------------------- names and expressions

        private string ShapeName(int id) => _g[id].Op switch
        {
            Op.PlaneSize => "(double)_shape.PlaneSize",
            Op.BatchSize => "(double)_shape.Length",
            Op.Const => CodeWriter.Num(_g[id].Value),
            _ => $"_sv{id}",
        };

        private string EpilogueName(int id)
        {
            var n = _g[id];
            return n.Op switch
            {
                Op.Const => CodeWriter.Num(n.Value),
                Op.Seed => "seed",
                _ when n.Rank == Rank.Scalar => ShapeName(id),
                _ when n.Rank == Rank.Batch => $"bv{id}",
                _ => $"v{id}",
            };
        }

        private string PixelName(int id)
        {
            var n = _g[id];
            return n.Op switch
            {
                Op.Const => Lit(n.Value),
                _ when n.Rank == Rank.Field => $"v{id}",
                _ => $"s{id}",
            };
        }

        private string VectorName(int id)
        {
            var n = _g[id];
            return n.Op switch
            {
                Op.Const => $"{V}.Create({Lit(n.Value)})",
                _ when n.Rank == Rank.Field => $"v{id}",
                _ => $"h{id}",
            };
        }

        private string DoubleExpr(int id, System.Func<int, string> name) => Scalar(id, name, "double", "global::System.Math");

        private string ScalarExpr(int id, System.Func<int, string> name) => Scalar(id, name, _t, _t == "float" ? "global::System.MathF" : "global::System.Math");

        private string Scalar(int id, System.Func<int, string> name, string t, string math)
        {
            var n = _g[id];
            return n.Op switch
            {
                Op.Input => $"_in{(int)n.Value}[i]",
                Op.AvgPool or Op.MaxPool or Op.MinPool => $"st{id}[i]",
                Op.PlaneSize or Op.BatchSize => ShapeName(id),
                _ => ScalarSyntax.Pointwise(n, name, t, math, SM) ?? $"/* unsupported {n.Op} */ default",
            };
        }

        private string VectorExpr(int id)
        {
            var n = _g[id];
            string A(int i) => VectorName(n.Args[i]);
            return n.Op switch
            {
                Op.Input => $"{V}.Load(_in{(int)n.Value} + i)",
                Op.AvgPool or Op.MaxPool or Op.MinPool => $"{V}.Load(st{id} + i)",
                Op.Neg => $"-{A(0)}",
                Op.Add => $"{A(0)} + {A(1)}",
                Op.Sub => $"{A(0)} - {A(1)}",
                Op.Mul => $"{A(0)} * {A(1)}",
                Op.Div => $"{A(0)} / {A(1)}",
                Op.Abs => $"{V}.Abs({A(0)})",
                Op.Exp => $"{V}.Exp({A(0)})",
                Op.Log => $"{V}.Log({A(0)})",
                Op.Sqrt => $"{V}.Sqrt({A(0)})",
                Op.Square => $"{A(0)} * {A(0)}",
                Op.Pow => $"{VM}.Pow({A(0)}, {Lit(n.Value)})",
                Op.Min => $"{V}.Min({A(0)}, {A(1)})",
                Op.Max => $"{V}.Max({A(0)}, {A(1)})",
                Op.Sigmoid => $"{VM}.Sigmoid({A(0)})",
                Op.LogSigmoid => $"{VM}.LogSigmoid({A(0)})",
                Op.Softplus => $"{VM}.Softplus({A(0)})",
                Op.Sign => $"{VM}.Sign({A(0)})",
                Op.Step => $"{VM}.Step({A(0)}, {A(1)})",
                Op.InRange => $"{VM}.InRange({A(0)}, {Lit(n.Value)}, {Lit(n.Value2)})",
                Op.Clamp => $"{VM}.Clamp({A(0)}, {Lit(n.Value)}, {Lit(n.Value2)})",
                Op.BceWithLogits => $"{VM}.BceWithLogits({A(0)}, {A(1)})",
                _ => $"/* unsupported {n.Op} */ default",
            };
        }
    }
}
