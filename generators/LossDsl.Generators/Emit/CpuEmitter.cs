using System.Collections.Generic;
using System.Linq;
using LossDsl.Generators.Kernels;
using LossDsl.Generators.Model;

namespace LossDsl.Generators.Emit;

/// <summary>
/// Emits <c>L.Cpu</c>: the kernel program printed as plain C#. Host code: spans pinned and validated, one kernel object per
/// element type and thread (cached), the target-only kernels run per plane (filters through <c>LossDsl.Cpu.Stencils</c>),
/// pixel kernels over contiguous chunks of rows on the <c>ChunkRunner</c> (SIMD over <c>Vector512</c> where accelerated, then
/// <c>Vector256</c>, then a scalar tail;
/// partial sums in double, combined in a fixed order so results do not depend on the thread count), plane and once kernels
/// as loops in double. Emitted once for <c>float</c> and once for <c>double</c>; the ops are spelled by the CPU syntax tables.
/// </summary>
internal static class CpuEmitter
{
    private const string VM = "global::LossDsl.Cpu.VectorMath";
    private const string SM = "global::LossDsl.Scalar";

    public static string Emit(KernelProgram s)
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

    private static string GradName(InputSpec input) => EntryPointNames.Grad(input.Name);

    private static string CpuDoc(KernelProgram s)
    {
        var lines = new List<string>
        {
            "Fused CPU backend (generated from the schedule below; vectorised, multi-threaded, no native dependency).",
            "<code>",
        };
        lines.AddRange(MathText.Dump(s.Schedule).TrimEnd('\n').Split('\n').Select(l => Xml.Escape(l)));
        lines.AddRange(KernelText.Describe(s).TrimEnd('\n').Split('\n').Select(l => Xml.Escape(l)));
        lines.Add("</code>");
        return string.Join("\n", lines);
    }

    private static void EmitEntryPoints(CodeWriter w, KernelProgram s, string t)
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

    /// <summary>Prints one element type's kernel class: host code around the program's kernels.</summary>
    private sealed class KernelWriter
    {
        private const string V256 = "global::System.Runtime.Intrinsics.Vector256";
        private const string V512 = "global::System.Runtime.Intrinsics.Vector512";
        private const string VM = "global::LossDsl.Cpu.VectorMath";

        private readonly KernelProgram _s;
        private readonly string _t;
        private readonly string _cls;
        private readonly CodeWriter _w;
        private readonly List<InputSpec> _inputs;
        private readonly List<int> _logits;
        private readonly Width _narrow;
        private readonly Width _wide;

        // The vector loop being printed.
        private Width _width;
        private readonly Syntax _scalar;
        private readonly Syntax _double = Syntax.CpuScalar("double");

        public KernelWriter(KernelProgram s, string t, CodeWriter w)
        {
            _s = s;
            _t = t;
            _cls = t == "float" ? "Float32" : "Float64";
            _w = w;
            _inputs = s.Spec.Inputs.ToList();
            _logits = s.LogitsInputs.ToList();
            _narrow = new Width(V256, Syntax.CpuVector(t, V256), "h");
            _wide = new Width(V512, Syntax.CpuVector(t, V512), "z");
            _width = _narrow;
            _scalar = Syntax.CpuScalar(t);
        }

        private IEnumerable<Kernel> TargetKernels => _s.Kernels.Where(k => k.Role == KernelRole.Target);

        private IEnumerable<Kernel> PixelKernels => _s.Kernels.Where(k => k.Role != KernelRole.Target && k.Domain == Domain.Pixels);

        private int MaxAccumulators => _s.Kernels.Select(k => k.Body.Count(x => x is AccumulateStatement)).DefaultIfEmpty(0).Max();

        private string Lit(double c) => Literals.Of(c, _t);

        private static string Delegate(Kernel k) => "_" + char.ToLowerInvariant(k.Name[0]) + k.Name.Substring(1);

        public void Emit()
        {
            var w = _w;
            w.Line($"private sealed unsafe class {_cls}");
            w.Line("{");
            w.Line("    /// <summary>Pixels per parallel chunk (whole rows of one plane); fixed, so sums do not depend on the thread count.</summary>");
            w.Line("    private const int ChunkPixels = 16384;");
            w.Line($"    private const int MaxAccumulators = {CodeWriter.Int(System.Math.Max(1, MaxAccumulators))};");
            w.Line($"    private const int PlaneSlots = {CodeWriter.Int(_s.PlaneSlots.Count)}; // {KernelText.Slots(_s, _s.PlaneSlots)}");
            w.Line($"    private const int BatchSlots = {CodeWriter.Int(System.Math.Max(1, _s.BatchSlots.Count))};{(_s.BatchSlots.Count > 0 ? " // " + KernelText.Slots(_s, _s.BatchSlots) : string.Empty)}");
            w.Line();
            w.Line("    [global::System.ThreadStatic]");
            w.Line($"    private static {_cls}? s_cached;");
            w.Line();
            w.Line("    private readonly global::LossDsl.Cpu.ChunkRunner _runner = new();");
            if (_s.HasTargetWork)
            {
                w.Line("    private readonly global::System.Action<int> _target;");
            }

            foreach (var k in PixelKernels)
            {
                w.Line($"    private readonly global::System.Action<int> {Delegate(k)};");
            }

            for (int i = 0; i < _inputs.Count; i++)
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
            w.Line("    private double[] _planes = global::System.Array.Empty<double>();");
            w.Line("    private double[] _batch = global::System.Array.Empty<double>();");
            foreach (var f in _s.Fields)
            {
                w.Line($"    private {_t}[] _field{f.Index} = global::System.Array.Empty<{_t}>(); // {MathText.Name(_s, f.Node)} = {MathText.Expr(_s, f.Node)}");
            }

            if (_s.HasTargetWork)
            {
                w.Line("    private global::LossDsl.LossShape _targetShape;");
                w.Line("    private bool _targetValid;");
            }

            w.Line();
            w.Line($"    private {_cls}()");
            w.Line("    {");
            if (_s.HasTargetWork)
            {
                w.Line("        _target = TargetPlane;");
            }

            foreach (var k in PixelKernels)
            {
                w.Line($"        {Delegate(k)} = {k.Name};");
            }

            w.Line("    }");
            w.Line();
            EmitRun();
            EmitExecute();
            EmitTarget();
            foreach (var k in PixelKernels)
            {
                EmitPixelKernel(k);
            }

            w.Line("}");
            w.Line();
        }

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
            string ptrs = string.Join(", ", Enumerable.Range(0, _inputs.Count).Select(n => $"{_t}* p{n}").Concat(_logits.Select(n => $"{_t}* g{n}")));
            w.Line($"    private double Execute({ptrs}, global::System.Span<{_t}> planeLosses, global::System.ReadOnlySpan<{_t}> planeSeeds, global::LossDsl.LossShape shape, bool reuseTargetWork)");
            w.Line("    {");
            w.Line("        " + string.Join(" ", Enumerable.Range(0, _inputs.Count).Select(n => $"_in{n} = p{n};").Concat(_logits.Select(n => $"_grad{n} = g{n};"))));
            w.Line("        _shape = shape;");
            w.Line("        int planes = shape.Planes;");
            w.Line("        _rowsPerChunk = global::System.Math.Max(1, global::System.Math.Min(shape.Rows, ChunkPixels / shape.W));");
            w.Line("        _chunksPerPlane = (shape.Rows + _rowsPerChunk - 1) / _rowsPerChunk;");
            w.Line("        int chunks = planes * _chunksPerPlane;");
            w.Line("        Ensure(ref _partials, chunks * MaxAccumulators);");
            w.Line("        Ensure(ref _planes, planes * PlaneSlots);");
            w.Line("        Ensure(ref _batch, BatchSlots);");
            foreach (var f in _s.Fields)
            {
                w.Line($"        Ensure(ref _field{f.Index}, shape.Length);");
            }

            w.Line("        double result = 0;");
            if (_s.HasTargetWork)
            {
                w.Line();
                w.Line("        // Target-only kernels, one plane per task (skipped when the caller reuses the previous call's).");
                w.Line("        if (!reuseTargetWork || !_targetValid || _targetShape != shape)");
                w.Line("        {");
                w.Line("            _targetValid = false;");
                w.Line("            _runner.Run(planes, _target);");
                w.Line("            _targetShape = shape;");
                w.Line("            _targetValid = true;");
                w.Line("        }");
            }

            bool inBackward = false;
            foreach (var k in _s.Kernels.Where(k => k.Role != KernelRole.Target))
            {
                if (k.Role == KernelRole.Backward && !inBackward)
                {
                    w.Line();
                    w.Line($"        if ({string.Join(" || ", _logits.Select(n => $"g{n} != null"))})");
                    w.Line("        {");
                    inBackward = true;
                }

                string pad = inBackward ? "            " : "        ";
                if (!(inBackward && k == _s.Kernels.First(x => x.Role == KernelRole.Backward)))
                {
                    w.Line();
                }

                w.Line($"{pad}// {k.Name}: {k.Summary}");
                switch (k.Domain)
                {
                    case Domain.Pixels when k.PerImage:
                        w.Line($"{pad}_runner.Run(shape.N * _chunksPerPlane, {Delegate(k)});");
                        break;
                    case Domain.Pixels:
                        w.Line($"{pad}_runner.Run(chunks, {Delegate(k)});");
                        var accs = k.Body.OfType<AccumulateStatement>().ToList();
                        if (accs.Count > 0)
                        {
                            w.Line($"{pad}for (int p = 0; p < planes; p++)");
                            w.Line($"{pad}{{");
                            for (int a = 0; a < accs.Count; a++)
                            {
                                w.Line($"{pad}    double s{a} = 0;");
                                w.Line($"{pad}    for (int c = p * _chunksPerPlane; c < (p + 1) * _chunksPerPlane; c++) s{a} += _partials[(c * MaxAccumulators) + {CodeWriter.Int(a)}];");
                                w.Line($"{pad}    _planes[{PlaneIndex(accs[a].Slot, "planes")}] = s{a};");
                            }

                            w.Line($"{pad}}}");
                        }

                        break;
                    case Domain.Planes when k.Setup.Count > 0:
                        // Braces keep the setup's names local to this kernel.
                        w.Line($"{pad}{{");
                        Setup(k, pad + "    ");
                        w.Line($"{pad}    for (int p = 0; p < planes; p++)");
                        w.Line($"{pad}    {{");
                        EpilogueBody(k, pad + "        ");
                        w.Line($"{pad}    }}");
                        w.Line($"{pad}}}");
                        break;
                    case Domain.Planes:
                        w.Line($"{pad}for (int p = 0; p < planes; p++)");
                        w.Line($"{pad}{{");
                        EpilogueBody(k, pad + "    ");
                        w.Line($"{pad}}}");
                        break;
                    case Domain.Once:
                        w.Line($"{pad}{{");
                        Setup(k, pad + "    ");
                        EpilogueBody(k, pad + "    ");
                        w.Line($"{pad}}}");
                        break;
                }
            }

            if (inBackward)
            {
                w.Line("        }");
            }

            w.Line();
            w.Line("        return result;");
            w.Line("    }");
            w.Line();
            w.Line("    private static void Ensure<T>(ref T[] buffer, int length)");
            w.Line("    {");
            w.Line("        if (buffer.Length < length) buffer = new T[length];");
            w.Line("    }");
            w.Line();
        }

        private static string PlaneIndex(int slot, string planes) => slot == 0 ? "p" : $"({CodeWriter.Int(slot)} * {planes}) + p";

        // -------------------------------------------------------------- epilogues (double)

        private void Setup(Kernel k, string pad)
        {
            foreach (var s in k.Setup)
            {
                _w.Line($"{pad}double {_s.Name(s.Id)} = {DoubleLet(s)};{Comment(s.Id)}");
            }
        }

        private void EpilogueBody(Kernel k, string pad)
        {
            foreach (var st in k.Body)
            {
                if (st is SumOverImagesStatement images)
                {
                    // Per channel, the sum over the images' rows in order, written back to every image's row.
                    _w.Line($"{pad}for (int __class = 0; __class < _shape.C; __class++) // {_s.Name(images.Node)} = {MathText.Expr(_s, images.Node)}");
                    _w.Line($"{pad}{{");
                    _w.Line($"{pad}    double __sum = 0;");
                    _w.Line($"{pad}    for (int p = __class; p < planes; p += _shape.C) __sum += _planes[{PlaneIndex(images.Source, "planes")}];");
                    _w.Line($"{pad}    for (int p = __class; p < planes; p += _shape.C) _planes[{PlaneIndex(images.Destination, "planes")}] = __sum;");
                    _w.Line($"{pad}}}");
                    continue;
                }

                string line = st switch
                {
                    LetStatement l => $"double {_s.Name(l.Id)} = {DoubleLet(l)};{Comment(l.Id)}",
                    LoadStatement l => $"double {_s.Name(l.Id)} = {DoubleOperand(l.Source)};{Comment(l.Id)}",
                    SeedStatement d => $"double {_s.Name(d.Id)} = planeSeeds.IsEmpty ? {DoubleOperand(d.Default)} : planeSeeds[p];",
                    StorePlaneStatement p => $"_planes[{PlaneIndex(p.Slot, "planes")}] = {DoubleOperand(p.Value)};",
                    StorePlaneLossStatement p => $"if (!planeLosses.IsEmpty) planeLosses[p] = ({_t}){DoubleOperand(p.Value)};",
                    StoreBatchStatement b => $"_batch[{CodeWriter.Int(b.Slot)}] = {DoubleOperand(b.Value)};",
                    SumPlanesStatement s => $"double {_s.Name(s.Id)} = 0;{Comment(s.Id)}",
                    ResultStatement r => $"result = {DoubleOperand(r.Value)};",
                    _ => throw new System.InvalidOperationException($"{st.GetType().Name} in the {k.Domain} kernel {k.Name}."),
                };
                _w.Line(pad + line);
                if (st is SumPlanesStatement sum)
                {
                    _w.Line($"{pad}for (int p = 0; p < planes; p++) {_s.Name(sum.Id)} += _planes[{PlaneIndex(sum.Slot, "planes")}];");
                }
            }
        }

        private string Comment(int id) => id < _s.Graph.Count ? " // " + MathText.Expr(_s, id) : string.Empty;

        private string DoubleLet(LetStatement l) => _double.Print(l.Op, l.Args.Select(DoubleOperand).ToArray(), l.K, l.K2);

        private string DoubleOperand(Operand o) => o.Kind switch
        {
            OperandKind.Literal => CodeWriter.Num(o.Value),
            OperandKind.Local => _s.Name(o.Index),
            OperandKind.PlaneSlot => $"_planes[{PlaneIndex(o.Index, "planes")}]",
            OperandKind.BatchSlot => $"_batch[{CodeWriter.Int(o.Index)}]",
            OperandKind.Shape => ShapeText((ShapeQuantity)o.Index),
            _ => throw new System.InvalidOperationException($"A per-pixel operand ({o.Kind}) in an epilogue."),
        };

        private static string ShapeText(ShapeQuantity q) => q switch
        {
            ShapeQuantity.PlaneSize => "(double)_shape.PlaneSize",
            ShapeQuantity.Length => "(double)_shape.Length",
            ShapeQuantity.Channels => "(double)_shape.C",
            ShapeQuantity.ChannelIndex => "(double)(p % _shape.C)",
            _ => "(double)_shape.Planes",
        };

        // -------------------------------------------------------------- target-only kernels, per plane

        private void EmitTarget()
        {
            if (!_s.HasTargetWork)
            {
                return;
            }

            var w = _w;
            var fields = TargetKernels.SelectMany(FieldsUsed).Distinct().OrderBy(x => x).ToList();
            w.Line("    [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]");
            w.Line("    private void TargetPlane(int p)");
            w.Line("    {");
            w.Line("        int d = _shape.D, h = _shape.H, w = _shape.W, hw = _shape.PlaneSize;");
            w.Line("        long start = (long)p * hw, end = start + hw;");
            if (fields.Count > 0)
            {
                w.Line($"        fixed ({_t}* {string.Join(", ", fields.Select(f => $"f{f} = _field{f}"))})");
            }

            w.Line("        {");
            foreach (var k in TargetKernels)
            {
                w.Line($"            // {k.Name}: {k.Summary}");
                if (k.Domain == Domain.Filter)
                {
                    foreach (var f in k.Body.OfType<FilterStatement>())
                    {
                        string src = f.Source.Kind == OperandKind.Input ? $"_in{f.Source.Index} + start" : $"f{f.Source.Index} + start";
                        string dst = $"f{f.Destination} + start";
                        w.Line(f.Kind == Op.AvgPool
                            ? $"            global::LossDsl.Cpu.Stencils.BoxFilter({src}, {dst}, d, h, w, {CodeWriter.Int(f.Kernel)});"
                            : $"            global::LossDsl.Cpu.Stencils.ExtremumFilter({src}, {dst}, d, h, w, {CodeWriter.Int(f.Kernel)}, min: {(f.Kind == Op.MinPool ? "true" : "false")});");
                    }
                }
                else
                {
                    w.Line("            {");
                    PixelLoop(k, "                ");
                    w.Line("            }");
                }
            }

            w.Line("        }");
            w.Line("    }");
            w.Line();
        }

        private static IEnumerable<int> FieldsUsed(Kernel k) =>
            k.Reads.Where(o => o.Kind == OperandKind.Field).Select(o => o.Index)
                .Concat(k.Body.OfType<StoreFieldStatement>().Select(s => s.Buffer))
                .Concat(k.Body.OfType<FilterStatement>().Select(f => f.Destination));

        // -------------------------------------------------------------- pixel kernels

        private void EmitPixelKernel(Kernel k)
        {
            var w = _w;
            w.Line("    [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]");
            w.Line($"    private void {k.Name}(int chunk)");
            w.Line("    {");
            w.Line(k.PerImage ? "        int p = (chunk / _chunksPerPlane) * _shape.C; // channel 0 of the chunk's image" : "        int p = chunk / _chunksPerPlane;");
            w.Line("        int r0 = (chunk % _chunksPerPlane) * _rowsPerChunk;");
            w.Line("        int r1 = global::System.Math.Min(_shape.Rows, r0 + _rowsPerChunk);");
            w.Line("        long start = ((long)p * _shape.PlaneSize) + ((long)r0 * _shape.W);");
            w.Line("        long end = ((long)p * _shape.PlaneSize) + ((long)r1 * _shape.W);");
            var fields = FieldsUsed(k).Distinct().OrderBy(x => x).ToList();
            foreach (int f in fields)
            {
                w.Line($"        fixed ({_t}* f{f} = _field{f})");
            }

            w.Line("        {");
            PixelLoop(k, "            ");
            w.Line("        }");
            w.Line("    }");
            w.Line();
        }

        /// <summary>The setup, the hoisted uniforms, a vector loop and a scalar tail over [start, end), and the accumulators' partial sums.</summary>
        private void PixelLoop(Kernel k, string pad)
        {
            var w = _w;
            _setupIds = new HashSet<int>(k.Setup.Select(x => x.Id));
            Setup(k, pad);
            if (k.ChannelLoops.Any())
            {
                // Channel loops read the pixel's other channels: they sit (channel − this channel) planes away.
                w.Line($"{pad}int __c = p % _shape.C;");
                w.Line($"{pad}long __hw = _shape.PlaneSize;");
            }

            foreach (var u in k.Uniforms)
            {
                string name = UniformName(u);
                string value = u.Kind == OperandKind.PlaneSlot ? $"_planes[{PlaneIndex(u.Index, "_shape.Planes")}]" : DoubleOperand(u);
                w.Line($"{pad}{_t} s{name} = ({_t}){value};{(u.Node >= 0 ? Comment(u.Node) : string.Empty)}");
                foreach (var width in new[] { _narrow, _wide })
                {
                    w.Line($"{pad}var {width.Broadcast}{name} = {width.Type}.Create(s{name});");
                }
            }

            var accs = k.Body.OfType<AccumulateStatement>().ToList();
            for (int a = 0; a < accs.Count; a++)
            {
                w.Line($"{pad}var acc{a} = {V256}<double>.Zero; double sacc{a} = 0;{(accs[a].Value.Node >= 0 ? $" // Σ {MathText.Name(_s, accs[a].Value.Node)}" : string.Empty)}");
            }

            // Vector512 where the hardware has it, then Vector256 for what is left of a 512-bit step, then scalars. The 512-bit
            // loop leaves the same tail as the 256-bit one and adds into the same four-lane accumulators in the same order,
            // so the width changes the speed, not the bits.
            w.Line($"{pad}long i = start;");
            w.Line($"{pad}if ({VM}.UseVector512)");
            w.Line($"{pad}{{");
            VectorLoop(k, pad + "    ", accs, _wide);
            w.Line($"{pad}}}");
            w.Line();
            VectorLoop(k, pad, accs, _narrow);
            w.Line();
            w.Line($"{pad}for (; i < end; i++)");
            w.Line($"{pad}{{");
            Statements(k, pad + "    ", vector: false, accs);
            w.Line($"{pad}}}");
            if (accs.Count > 0)
            {
                w.Line();
                for (int a = 0; a < accs.Count; a++)
                {
                    w.Line($"{pad}_partials[(chunk * MaxAccumulators) + {CodeWriter.Int(a)}] = {V256}.Sum(acc{a}) + sacc{a};");
                }
            }
        }

        private void VectorLoop(Kernel k, string pad, List<AccumulateStatement> accs, Width width)
        {
            _width = width;
            _w.Line($"{pad}for (; i <= end - {width.Type}<{_t}>.Count; i += {width.Type}<{_t}>.Count)");
            _w.Line($"{pad}{{");
            Statements(k, pad + "    ", vector: true, accs);
            _w.Line($"{pad}}}");
            _width = _narrow;
        }

        /// <summary>A vector width the CPU kernels print: its type, its syntax table, the prefix of its broadcast uniforms.</summary>
        private sealed record Width(string Type, Syntax Syntax, string Broadcast);

        private void Statements(Kernel k, string pad, bool vector, List<AccumulateStatement> accs)
        {
            var w = _w;
            foreach (var st in k.Body)
            {
                switch (st)
                {
                    case LoadStatement l:
                        w.Line(vector ? $"{pad}var {_s.Name(l.Id)} = {VectorLoad(l.Source)};" : $"{pad}{_t} {_s.Name(l.Id)} = {ScalarOperand(l.Source)};");
                        break;
                    case LetStatement l:
                        w.Line(vector
                            ? $"{pad}var {_s.Name(l.Id)} = {_width.Syntax.Print(l.Op, l.Args.Select(VectorOperand).ToArray(), l.K, l.K2)};"
                            : $"{pad}{_t} {_s.Name(l.Id)} = {_scalar.Print(l.Op, l.Args.Select(ScalarOperand).ToArray(), l.K, l.K2)};");
                        break;
                    case AccumulateStatement a:
                        int ai = accs.IndexOf(a);
                        w.Line(vector ? $"{pad}acc{ai} = {VM}.Accumulate(acc{ai}, {VectorOperand(a.Value)});" : $"{pad}sacc{ai} += {ScalarOperand(a.Value)};");
                        break;
                    case StoreFieldStatement f when k.PerImage:
                        string stored = vector ? VectorOperand(f.Value) : ScalarOperand(f.Value);
                        w.Line(vector
                            ? $"{pad}for (int __ch = 0; __ch < _shape.C; __ch++) {_width.Type}.Store({stored}, f{f.Buffer} + i + (__ch * __hw));"
                            : $"{pad}for (int __ch = 0; __ch < _shape.C; __ch++) f{f.Buffer}[i + (__ch * __hw)] = {stored};");
                        break;
                    case StoreFieldStatement f:
                        w.Line(vector ? $"{pad}{_width.Type}.Store({VectorOperand(f.Value)}, f{f.Buffer} + i);" : $"{pad}f{f.Buffer}[i] = {ScalarOperand(f.Value)};");
                        break;
                    case StoreGradientStatement g:
                        w.Line(vector
                            ? $"{pad}if (_grad{g.Input} != null) {_width.Type}.Store({VectorOperand(g.Value)}, _grad{g.Input} + i);"
                            : $"{pad}if (_grad{g.Input} != null) _grad{g.Input}[i] = {ScalarOperand(g.Value)};");
                        break;
                    case ChannelLoopStatement c:
                        ChannelLoop(k, c, pad, vector);
                        break;
                    default:
                        throw new System.InvalidOperationException($"{st.GetType().Name} in the pixel kernel {k.Name}.");
                }
            }
        }

        /// <summary>
        /// A reduction over the channels of the pixel (vector or scalar): the sum in one loop; the log-sum-exp in two, the
        /// channels' maximum and then Σ e^(x − max), so that no exponential overflows.
        /// </summary>
        private void ChannelLoop(Kernel k, ChannelLoopStatement c, string pad, bool vector)
        {
            var w = _w;
            var syntax = vector ? _width.Syntax : _scalar;
            string name = _s.Name(c.Id);
            string Zero(double v) => vector ? $"{_width.Type}.Create({Lit(v)})" : Lit(v);
            string decl = vector ? "var" : _t;

            void Loop(string accumulate)
            {
                w.Line($"{pad}for (int __ch = 0; __ch < _shape.C; __ch++)");
                w.Line($"{pad}{{");
                w.Line($"{pad}    long __o = i + ((long)(__ch - __c) * __hw);");
                _inLoop = true;
                foreach (var st in c.Body)
                {
                    string value = st switch
                    {
                        LoadStatement l => vector ? VectorLoad(l.Source) : ScalarOperand(l.Source),
                        LetStatement l => syntax.Print(l.Op, l.Args.Select(o => vector ? VectorOperand(o) : ScalarOperand(o)).ToArray(), l.K, l.K2),
                        _ => throw new System.InvalidOperationException($"{st.GetType().Name} in a channel loop of {k.Name}."),
                    };
                    int id = st is LoadStatement ld ? ld.Id : ((LetStatement)st).Id;
                    w.Line($"{pad}    {decl} {_s.Name(id)} = {value};");
                }

                string v = vector ? VectorOperand(c.Value) : ScalarOperand(c.Value);
                _inLoop = false;
                w.Line($"{pad}    {accumulate.Replace("{v}", v)};");
                w.Line($"{pad}}}");
            }

            w.Line($"{pad}// {name} = {MathText.Expr(_s, c.Node)}");
            if (c.Reduce == Op.SumChannels)
            {
                w.Line($"{pad}{decl} {name} = {Zero(0)};");
                Loop($"{name} += {{v}}");
                return;
            }

            string max = name + "_max", sum = name + "_sum";
            w.Line($"{pad}{decl} {max} = {Zero(double.NegativeInfinity)};");
            Loop($"{max} = {syntax.Print(Op.Max, new[] { max, "{v}" }, 0, 0)}");
            w.Line($"{pad}{decl} {sum} = {Zero(0)};");
            Loop($"{sum} += {syntax.Print(Op.Exp, new[] { syntax.Print(Op.Sub, new[] { "{v}", max }, 0, 0) }, 0, 0)}");
            w.Line($"{pad}{decl} {name} = {syntax.Print(Op.Add, new[] { max, syntax.Print(Op.Log, new[] { sum }, 0, 0) }, 0, 0)};");
        }

        /// <summary>True while a channel loop's body is printed: inputs, fields and plane slots are read at the loop's channel.</summary>
        private bool _inLoop;

        private string LoopPlaneSlot(Operand o) => $"({_t})_planes[{PlaneIndex(o.Index, "_shape.Planes")} - __c + __ch]";

        private static string UniformName(Operand u) => u.Node >= 0 ? CodeWriter.Int(u.Node) : "_" + u.Kind + CodeWriter.Int(u.Index);

        /// <summary>The setup values of the pixel kernel being printed: read through their hoisted copies in the element type.</summary>
        private HashSet<int> _setupIds = new();

        private string Pixel => _inLoop ? "__o" : "i";

        private string VectorLoad(Operand o) => o.Kind switch
        {
            OperandKind.Input => $"{_width.Type}.Load(_in{o.Index} + {Pixel})",
            OperandKind.Field => $"{_width.Type}.Load(f{o.Index} + {Pixel})",
            _ => VectorOperand(o),
        };

        private string VectorOperand(Operand o) => o.Kind switch
        {
            OperandKind.Literal => $"{_width.Type}.Create({Lit(o.Value)})",
            OperandKind.Local when !_setupIds.Contains(o.Index) => _s.Name(o.Index),
            OperandKind.Input or OperandKind.Field => VectorLoad(o),
            OperandKind.PlaneSlot when _inLoop => $"{_width.Type}.Create({LoopPlaneSlot(o)})",
            _ => _width.Broadcast + UniformName(o),
        };

        private string ScalarOperand(Operand o) => o.Kind switch
        {
            OperandKind.Literal => Lit(o.Value),
            OperandKind.Local when !_setupIds.Contains(o.Index) => _s.Name(o.Index),
            OperandKind.Input => $"_in{o.Index}[{Pixel}]",
            OperandKind.Field => $"f{o.Index}[{Pixel}]",
            OperandKind.PlaneSlot when _inLoop => LoopPlaneSlot(o),
            _ => "s" + UniformName(o),
        };
    }
}
