using System.Collections.Generic;
using System.Linq;
using LossDsl.Generators.Kernels;
using LossDsl.Generators.Model;

namespace LossDsl.Generators.Emit;

/// <summary>
/// Emits the TorchSharp backend of a loss <c>L</c>: <c>L.Compute(Tensor, ...)</c> (autograd-aware, any device), the
/// deep-supervision overload, <c>L.TorchOps</c> (the schedule printed as TorchSharp tensor ops) and <c>L.Module</c>.
/// <list type="bullet">
/// <item>CPU tensors run the generated fused kernel <c>L.Cpu</c> zero-copy on the tensors' memory; with Reduction Mean/Sum the
/// gradient is computed in the same call as the loss (when an input requires grad and grad mode is on), saved, and backward
/// scales it by the upstream gradient. With Reduction.None backward runs <c>L.Cpu.Backward</c> with the upstream gradient as
/// per-plane seeds.</item>
/// <item>Any other device runs <c>L.TorchOps</c>: stencils as separable pooling, the forward sweep as tensor expressions in the
/// input dtype, reductions accumulated in float64, the plane epilogue on N×C float64 tensors, the backward sweep as tensor
/// expressions (reusing the forward tensors, which are still alive).</item>
/// </list>
/// </summary>
internal static class TorchSharpEmitter
{
    private const string T = "global::TorchSharp.torch.Tensor";
    private const string TM = "global::LossDsl.TorchSharp.TensorMath";
    private const string TB = "global::LossDsl.TorchSharp.TensorBridge";
    private const string ST = "global::TorchSharp.torch.ScalarType";

    public static string? Emit(KernelProgram fused)
    {
        // The tensor-op path prints every value as one tensor op: it plans the schedule without the fused kernels' shared
        // exponentials, which would cost it launches instead of saving arithmetic (the CPU path runs the fused program).
        var s = KernelPlanner.Plan(fused.Schedule, shareExponentials: false);
        var spec = s.Spec;
        var inputs = spec.Inputs.ToList();
        var logits = Enumerable.Range(0, inputs.Count).Where(i => inputs[i].Role == InputRole.Logits).ToList();
        if (inputs.Count == 0 || logits.Count == 0)
        {
            return null;
        }

        return Shell.Write(spec, w =>
        {
            var e = new Writer(s, w);
            e.EntryPoints();
            e.TorchOpsClass();
            e.ModuleClass();
            e.CallRecord();
            e.FunctionClass();
        });
    }

    private sealed class Writer
    {
        private readonly KernelProgram _s;
        private readonly CodeWriter _w;
        private readonly List<InputSpec> _inputs;
        private readonly List<int> _logits;
        private readonly string _name;

        public Writer(KernelProgram s, CodeWriter w)
        {
            _s = s;
            _w = w;
            _inputs = s.Spec.Inputs.ToList();
            _logits = Enumerable.Range(0, _inputs.Count).Where(i => _inputs[i].Role == InputRole.Logits).ToList();
            _name = s.Spec.Type.Name;
        }

        /// <summary>Deep supervision is emitted for losses with exactly one <c>Logits</c> input.</summary>
        private bool Deep => _logits.Count == 1;

        private int DeepInput => _logits[0];

        private string DeepName => ListName(_inputs[DeepInput].Name);

        private bool None => _s.Spec.Reduction == ReductionKind.None;

        // Only the public entry points (Compute, TorchOps.Compute, Module.forward) have parameters named after the inputs, and
        // they forward at once through qualified names. Every other method calls the inputs in0, in1, … (an input may be called
        // like any of the emitter's locals or nested types: scope, call, Cpu, TorchOps, …).
        private string First => "in0";

        private static string In(int i) => "in" + i.ToString(System.Globalization.CultureInfo.InvariantCulture);

        private string Qualified => Shell.Qualified(_s.Spec);

        private static string ListName(string name) => EntryPointNames.List(name);

        private string PublicParams => Shell.Params(_s.Spec, _ => T);

        private string PublicArgs => string.Join(", ", _inputs.Select(i => Shell.Id(i.Name)));

        private string PublicDeepParams => string.Join(", ", _inputs.Select((inp, i) => i == DeepInput
            ? $"global::System.Collections.Generic.IReadOnlyList<{T}> @{DeepName}"
            : $"{T} @{inp.Name}"));

        private string PublicDeepArgs => string.Join(", ", _inputs.Select((inp, i) => i == DeepInput ? "@" + DeepName : Shell.Id(inp.Name)));

        private string Params => string.Join(", ", _inputs.Select((_, i) => $"{T} {In(i)}"));

        private string Args => string.Join(", ", _inputs.Select((_, i) => In(i)));

        private string DeepParams => string.Join(", ", _inputs.Select((_, i) => i == DeepInput
            ? $"global::System.Collections.Generic.IReadOnlyList<{T}> {In(i)}"
            : $"{T} {In(i)}"));

        private string Result => None
            ? "the per-plane losses, an N×C tensor (Reduction.None)"
            : _s.Spec.Reduction == ReductionKind.Mean ? "the mean over the N×C planes of the per-plane loss, a 0-dim tensor" : "the sum over the N×C planes of the per-plane loss, a 0-dim tensor";

        // ------------------------------------------------------------------ public surface

        public void EntryPoints()
        {
            var w = _w;
            w.Doc("summary",
                $"Computes the loss on TorchSharp tensors: {Result}, in the inputs' dtype and on their device.\n" +
                "Autograd-aware: <c>loss.backward()</c> runs the generated analytic gradient (one autograd node, not a tape of ops).\n" +
                "CPU tensors run the fused kernel <see cref=\"Cpu\"/> zero-copy on the tensors' memory; tensors on any other device run\n" +
                "<see cref=\"TorchOps\"/> (the same schedule as TorchSharp ops). float32 and float64 only; non-contiguous or channels-last\n" +
                "inputs are first copied to contiguous NCHW.");
            ParamDocs(deep: false);
            w.Line($"/// <returns>{Result}.</returns>");
            w.Line("/// <exception cref=\"global::System.ArgumentException\">An input has the wrong rank, shape, dtype or device, or a target requires grad; the exception names it.</exception>");
            w.Line(Shell.GeneratedCode);
            w.Line($"public static {T} Compute({PublicParams}) =>");
            w.Line($"    {Qualified}.TorchFunction.Run({PublicArgs}, forceTensorOps: false);");
            w.Line();
            if (Deep)
            {
                w.Doc("summary",
                    $"Deep supervision: Σ over the side outputs <paramref name=\"{DeepName}\"/> of the loss against the same target(s), with the\n" +
                    "target-only work (the stencil pre-pass, e.g. the boundary weight map) computed once for all side outputs. Gradients reach\n" +
                    "every side output.");
                ParamDocs(deep: true);
                w.Line($"/// <returns>The sum of the side outputs' losses ({(None ? "N×C" : "0-dim")}).</returns>");
                w.Line($"/// <exception cref=\"global::System.ArgumentException\">The list is empty, or an input fails validation (a side output is named <c>{DeepName}[i]</c>).</exception>");
                w.Line(Shell.GeneratedCode);
                w.Line($"public static {T} Compute({PublicDeepParams}) =>");
                w.Line($"    {Qualified}.TorchFunction.RunDeep({PublicDeepArgs}, forceTensorOps: false);");
                w.Line();
            }
        }

        private void ParamDocs(bool deep)
        {
            for (int i = 0; i < _inputs.Count; i++)
            {
                var inp = _inputs[i];
                if (deep && i == DeepInput)
                {
                    _w.Line($"/// <param name=\"{DeepName}\">The side outputs (logits), each N×C×H×W like the target(s); at least one.</param>");
                }
                else if (inp.Role == InputRole.Logits)
                {
                    _w.Line($"/// <param name=\"{inp.Name}\">Logits, N×C×H×W, float32 or float64; may require grad.</param>");
                }
                else
                {
                    _w.Line($"/// <param name=\"{inp.Name}\">Target, the same shape, dtype and device; must not require grad.</param>");
                }
            }
        }

        public void TorchOpsClass()
        {
            var w = _w;
            w.Doc("summary",
                "The loss as TorchSharp tensor ops, for tensors on any device (the path <c>Compute</c> takes off the CPU; call it directly to\n" +
                "force it). Stencils are separable pooling, pixel values keep the input dtype, reductions accumulate in float64, the plane\n" +
                "epilogue runs on N×C float64 tensors and the backward sweep reuses the forward's tensors.");
            w.Line(Shell.GeneratedCode);
            w.Open("public static class TorchOps");
            w.Line($"/// <summary>As <c>{_name}.Compute</c>, on the tensor-op path whatever the device.</summary>");
            ParamDocs(deep: false);
            w.Line($"/// <returns>{Result}.</returns>");
            w.Line($"public static {T} Compute({PublicParams}) =>");
            w.Line($"    {Qualified}.TorchFunction.Run({PublicArgs}, forceTensorOps: true);");
            w.Line();
            if (Deep)
            {
                w.Line("/// <summary>Deep supervision on the tensor-op path: the stencils are computed once and shared by every side output.</summary>");
                ParamDocs(deep: true);
                w.Line("/// <returns>The sum of the side outputs' losses.</returns>");
                w.Line($"public static {T} Compute({PublicDeepParams}) =>");
                w.Line($"    {Qualified}.TorchFunction.RunDeep({PublicDeepArgs}, forceTensorOps: true);");
                w.Line();
            }

            EmitStencils();
            EmitRun();
            w.Close();
            w.Line();
        }

        public void ModuleClass()
        {
            if (_inputs.Count != 2)
            {
                return;
            }

            var w = _w;
            w.Doc("summary", $"The loss as a TorchSharp module, to drop into code that composes <c>torch.nn</c> modules: <c>forward</c> calls <c>{_name}.Compute</c>.");
            w.Line(Shell.GeneratedCode);
            w.Open($"public sealed class Module : global::TorchSharp.torch.nn.Module<{T}, {T}, {T}>");
            w.Line("/// <summary>Creates the module (it has no parameters).</summary>");
            w.Line($"public Module() : base(\"{_name}\")");
            w.Line("{");
            w.Line("}");
            w.Line();
            w.Line("/// <inheritdoc/>");
            w.Line($"public override {T} forward({T} @{_inputs[0].Name}, {T} @{_inputs[1].Name}) => {Qualified}.Compute(@{_inputs[0].Name}, @{_inputs[1].Name});");
            w.Close();
            w.Line();
        }

        public void CallRecord()
        {
            _w.Line("/// <summary>How one call runs; passed to the autograd function as a non-tensor argument (autograd ignores it).</summary>");
            _w.Line($"private sealed record TorchCall(bool TensorOps, bool GradEnabled, bool ReuseTargetWork, {T}[]? Stencils);");
            _w.Line();
        }

        // ------------------------------------------------------------------ tensor-op path

        /// <summary>What a printed value is: a C# double, a dense pixel tensor, a pixel-broadcastable tensor (a plane or batch value in the pixel dtype), an N×C float64 tensor or a 0-dim float64 tensor.</summary>
        private enum Kind
        {
            Double,
            Batch,
            Plane,
            Broadcast,
            Pixel,
        }

        /// <summary>A printed value: its text, its kind, and whether it is an input's or a buffer's tensor (returned only as a copy).</summary>
        private readonly record struct Value(string Text, Kind Kind, bool Borrowed = false);

        private readonly Dictionary<int, Value> _values = new();
        private readonly Syntax _tensor = Syntax.Tensor;
        private readonly Syntax _double = Syntax.CpuScalar("double");

        /// <summary>Fields the target-only kernels compute and the others read: the tensors <c>Stencils</c> returns, in this order.</summary>
        private List<int> SharedFields
        {
            get
            {
                var byTarget = new HashSet<int>(_s.Kernels.Where(k => k.Role == KernelRole.Target).SelectMany(k => k.Body)
                    .Select(st => st switch { FilterStatement f => f.Destination, StoreFieldStatement f => f.Buffer, _ => -1 }));
                return _s.Kernels.Where(k => k.Role != KernelRole.Target)
                    .SelectMany(k => k.Reads).Where(o => o.Kind == OperandKind.Field && byTarget.Contains(o.Index)).Select(o => o.Index).Distinct().OrderBy(x => x).ToList();
            }
        }

        private void EmitStencils()
        {
            var w = _w;
            w.Line("/// <summary>The target-only kernels (stencils of the targets): one tensor per field buffer the other kernels read.</summary>");
            w.Open($"internal static {T}[] Stencils({Params})");
            var shared = SharedFields;
            if (shared.Count == 0)
            {
                w.Line($"return global::System.Array.Empty<{T}>();");
                w.Close();
                w.Line();
                return;
            }

            w.Line("using var scope = global::TorchSharp.torch.NewDisposeScope();");
            if (_s.Kernels.Any(k => k.Role == KernelRole.Target && k.Setup.Count > 0))
            {
                ShapeLocal();
            }

            _values.Clear();
            _broadcast.Clear();
            _live = Live(_s.Kernels.Where(k => k.Role == KernelRole.Target), new HashSet<int>(shared));
            foreach (var k in _s.Kernels.Where(k => k.Role == KernelRole.Target))
            {
                Kernel(k);
            }

            w.Line();
            w.Line($"return new {T}[] {{ {string.Join(", ", shared.Select(f => $"f{f}.MoveToOuterDisposeScope()"))} }};");
            w.Close();
            w.Line();
        }

        private void ShapeLocal() =>
            _w.Line($"var shape = global::LossDsl.TorchSharp.TensorBridge.ShapeOf({First});");

        private void EmitRun()
        {
            var w = _w;
            var spec = _s.Spec;
            w.Line("/// <summary>");
            w.Line("/// Runs the kernels as tensor ops: writes the per-plane losses (N×C, float64) and returns d loss / d input for each input");
            w.Line("/// whose <paramref name=\"wantGrad\"/> entry is true (null otherwise), for the upstream gradient <paramref name=\"planeSeeds\"/>");
            w.Line($"/// per plane (null: {(spec.Reduction == ReductionKind.Mean ? "1 / (N·C)" : "1")} each, the gradient of the reduced loss).");
            w.Line("/// </summary>");
            w.Open($"internal static {T}?[] Run({Params}, {T}[] stencils, {T}? planeSeeds, bool[] wantGrad, out {T} planeLosses)");
            w.Line("using var scope = global::TorchSharp.torch.NewDisposeScope();");
            w.Line($"var dtype = {First}.dtype;");
            w.Line($"var device = {First}.device;");
            // No n/c locals: the inputs' names are the user's (an input may be called n or c); shape is reserved.
            ShapeLocal();
            _values.Clear();
            _broadcast.Clear();
            var shared = SharedFields;
            _live = Live(_s.Kernels.Where(k => k.Role != KernelRole.Target), new HashSet<int>());
            for (int j = 0; j < shared.Count; j++)
            {
                w.Line($"var f{shared[j]} = stencils[{CodeWriter.Int(j)}]; // {MathText.Expr(_s, _s.Fields[shared[j]].Node)}");
            }

            w.Line($"var grads = new {T}?[{CodeWriter.Int(_inputs.Count)}];");
            foreach (var k in _s.Kernels.Where(k => k.Role == KernelRole.Forward))
            {
                Kernel(k);
            }

            var backward = _s.Kernels.Where(k => k.Role == KernelRole.Backward).ToList();
            var gradInputs = backward.SelectMany(k => k.Body.OfType<StoreGradientStatement>()).Select(g => g.Input).Distinct().ToList();
            if (backward.Count > 0 && gradInputs.Count > 0)
            {
                w.Line();
                w.Open($"if ({string.Join(" || ", gradInputs.Select(i => $"wantGrad[{CodeWriter.Int(i)}]"))})");
                foreach (var k in backward)
                {
                    Kernel(k, guardGradients: gradInputs.Count > 1, first: k == backward[0]);
                }

                w.Close();
            }

            w.Line();
            w.Line("return grads;");
            w.Close();
        }

        /// <summary>One kernel as tensor statements: pixel kernels over whole N×C×H×W tensors, plane kernels over N×C float64 tensors.</summary>
        private void Kernel(Kernel k, bool guardGradients = false, bool first = false)
        {
            var w = _w;
            if (!k.Setup.Any(_live.Contains) && !k.Body.Any(_live.Contains))
            {
                return;
            }

            if (!first)
            {
                w.Line();
            }

            w.Line($"// {k.Name}: {k.Summary}");
            foreach (var s in k.Setup)
            {
                if (!_values.ContainsKey(s.Id) && _live.Contains(s))
                {
                    w.Line($"double {_s.Name(s.Id)} = {_double.Print(s.Op, s.Args.Select(a => Read(a, k).Text).ToArray(), s.K, s.K2)};{Comment(s.Id)}");
                    _values[s.Id] = new Value(_s.Name(s.Id), Kind.Double);
                }
            }

            foreach (var st in k.Body.Where(_live.Contains))
            {
                switch (st)
                {
                    case LoadStatement l:
                        _values[l.Id] = Read(l.Source, k);
                        break;
                    case LetStatement l when !_values.ContainsKey(l.Id):
                        var v = Let(l, k);
                        w.Line($"var {_s.Name(l.Id)} = {v.Text};{Comment(l.Id)}");
                        _values[l.Id] = v with { Text = _s.Name(l.Id) };
                        break;
                    case LetStatement:
                        break; // computed by an earlier kernel of this method (the backward reuses the forward's tensors)
                    case AccumulateStatement a:
                        w.Line($"var pl{a.Slot} = {TM}.SumPlanes({FieldOf(Read(a.Value, k))});{SlotComment(_s.PlaneSlots[a.Slot].Node)}");
                        break;
                    case StoreFieldStatement f:
                        w.Line($"var f{f.Buffer} = {FieldOf(Read(f.Value, k))};");
                        break;
                    case FilterStatement f:
                        string fn = f.Kind switch { Op.AvgPool => "AvgPool", Op.MaxPool => "MaxPool", _ => "MinPool" };
                        w.Line($"var f{f.Destination} = {TM}.{fn}({Read(f.Source, k).Text}, {CodeWriter.Int(f.Kernel)});{Comment(f.Node)}");
                        break;
                    case SeedStatement d:
                        var fallback = Read(d.Default, k);
                        w.Line($"var {_s.Name(d.Id)} = planeSeeds is null ? {TM}.ToPlanes({fallback.Text}, shape.N, shape.C, device) : planeSeeds.to({ST}.Float64);");
                        _values[d.Id] = new Value(_s.Name(d.Id), Kind.Plane);
                        break;
                    case StorePlaneStatement p:
                        w.Line($"var pl{p.Slot} = {PlanesOf(Read(p.Value, k))};");
                        break;
                    case StorePlaneLossStatement p:
                        w.Line($"planeLosses = {PlanesOf(Read(p.Value, k))}.MoveToOuterDisposeScope();");
                        break;
                    case SumOverImagesStatement s:
                        w.Line($"var pl{s.Destination} = {TM}.SumOverImages(pl{s.Source});{SlotComment(s.Node)}");
                        break;
                    case SumPlanesStatement s:
                        w.Line($"var {_s.Name(s.Id)} = pl{s.Slot}.sum();{Comment(s.Id)}");
                        _values[s.Id] = new Value(_s.Name(s.Id), Kind.Batch);
                        break;
                    case StoreBatchStatement b:
                        var bv = Read(b.Value, k);
                        w.Line($"var bt{b.Slot} = {(bv.Kind == Kind.Double ? $"global::TorchSharp.torch.tensor({bv.Text}, {ST}.Float64, device)" : bv.Text)};");
                        break;
                    case StoreGradientStatement g:
                        var gv = Read(g.Value, k);
                        string value = FieldOf(gv) + (gv.Borrowed ? ".clone()" : string.Empty);
                        string guard = guardGradients ? $"if (wantGrad[{CodeWriter.Int(g.Input)}]) " : string.Empty;
                        w.Line($"{guard}grads[{CodeWriter.Int(g.Input)}] = {value}.MoveToOuterDisposeScope(); // d/d {_inputs[g.Input].Name}");
                        break;
                    case ResultStatement:
                        break; // the autograd function reduces the plane losses itself
                    case ChannelLoopStatement c when !_values.ContainsKey(c.Id):
                        ChannelLoop(c, k);
                        break;
                    case ChannelLoopStatement:
                        break; // computed by an earlier kernel of this method
                    default:
                        throw new System.InvalidOperationException($"{st.GetType().Name} in the {k.Domain} kernel {k.Name}.");
                }
            }
        }

        /// <summary>
        /// A reduction over channels as tensor ops: the loop's body is the same expression over every channel at once, then
        /// one reduction over dim 1, expanded back over the channels (a view, no copy).
        /// </summary>
        private void ChannelLoop(ChannelLoopStatement c, Kernel k)
        {
            foreach (var st in c.Body)
            {
                switch (st)
                {
                    case LoadStatement l:
                        _values[l.Id] = Read(l.Source, k);
                        break;
                    case LetStatement l:
                        var v = Let(l, k);
                        _w.Line($"var {_s.Name(l.Id)} = {v.Text};");
                        _values[l.Id] = v with { Text = _s.Name(l.Id) };
                        break;
                }
            }

            string value = FieldOf(Read(c.Value, k));
            string reduce = c.Reduce == Op.LogSumExp ? "logsumexp(1, keepdim: true)" : "sum(1, keepdim: true)";
            _w.Line($"var {_s.Name(c.Id)} = {value}.{reduce}.expand_as({First});{Comment(c.Node)}");
            _values[c.Id] = new Value(_s.Name(c.Id), Kind.Pixel);
        }

        private HashSet<Statement> _live = new();

        /// <summary>
        /// The statements whose results reach an output of the method (gradients, plane losses, the shared fields): tensor ops
        /// run eagerly, so what nothing reads (the reduced loss, which the autograd function takes from the plane losses) is
        /// not printed.
        /// </summary>
        private static HashSet<Statement> Live(IEnumerable<Kernel> kernels, HashSet<int> outputFields)
        {
            var live = new HashSet<Statement>();
            var locals = new HashSet<int>();
            var planeSlots = new HashSet<int>();
            var batchSlots = new HashSet<int>();
            var fields = new HashSet<int>(outputFields);
            void Mark(Statement st)
            {
                live.Add(st);
                foreach (var o in Kernels.Kernel.StatementReads(st))
                {
                    switch (o.Kind)
                    {
                        case OperandKind.Local: locals.Add(o.Index); break;
                        case OperandKind.PlaneSlot: planeSlots.Add(o.Index); break;
                        case OperandKind.BatchSlot: batchSlots.Add(o.Index); break;
                        case OperandKind.Field: fields.Add(o.Index); break;
                    }
                }

                if (st is SumPlanesStatement sum)
                {
                    planeSlots.Add(sum.Slot);
                }

                if (st is SumOverImagesStatement images)
                {
                    planeSlots.Add(images.Source);
                }
            }

            foreach (var k in kernels.Reverse())
            {
                foreach (var st in k.Body.Reverse().Cast<Statement>().Concat(k.Setup.Reverse()))
                {
                    bool needed = st switch
                    {
                        StoreGradientStatement or StorePlaneLossStatement => true,
                        LetStatement l => locals.Contains(l.Id),
                        ChannelLoopStatement c => locals.Contains(c.Id),
                        LoadStatement l => locals.Contains(l.Id),
                        SeedStatement d => locals.Contains(d.Id),
                        SumPlanesStatement s => locals.Contains(s.Id),
                        SumOverImagesStatement s => planeSlots.Contains(s.Destination),
                        AccumulateStatement a => planeSlots.Contains(a.Slot),
                        StorePlaneStatement p => planeSlots.Contains(p.Slot),
                        StoreBatchStatement b => batchSlots.Contains(b.Slot),
                        StoreFieldStatement f => fields.Contains(f.Buffer),
                        FilterStatement f => fields.Contains(f.Destination),
                        _ => false,
                    };
                    if (needed)
                    {
                        Mark(st);
                    }
                }
            }

            return live;
        }

        private Value Let(LetStatement l, Kernel k)
        {
            var args = l.Args.Select(a => Read(a, k)).ToArray();
            var texts = args.Select(a => a.Text).ToArray();
            if (args.All(a => a.Kind == Kind.Double))
            {
                return new Value(_double.Print(l.Op, texts, l.K, l.K2), Kind.Double);
            }

            var kind = args.Max(a => a.Kind);
            string text = _tensor.Print(l.Op, texts, l.K, l.K2, i => AsTensor(args[i], k.Domain));
            return new Value(text, kind == Kind.Broadcast ? Kind.Broadcast : kind);
        }

        /// <summary>How kernel <paramref name="k"/> reads an operand: uniforms of pixel kernels broadcast to the pixel dtype.</summary>
        private Value Read(Operand o, Kernel k)
        {
            switch (o.Kind)
            {
                case OperandKind.Literal:
                    return new Value(CodeWriter.Num(o.Value), Kind.Double);
                case OperandKind.Shape when o.Index == (int)ShapeQuantity.ChannelIndex:
                    return new Value($"{TM}.ChannelIndices(shape.N, shape.C, device)", Kind.Plane);
                case OperandKind.Shape:
                    return new Value((ShapeQuantity)o.Index switch
                    {
                        ShapeQuantity.PlaneSize => "(double)shape.PlaneSize",
                        ShapeQuantity.Length => "(double)shape.Length",
                        ShapeQuantity.Channels => "(double)shape.C",
                        _ => "(double)shape.Planes",
                    }, Kind.Double);
                case OperandKind.Local:
                    return _values[o.Index];
                case OperandKind.Input:
                    return new Value(In(o.Index), Kind.Pixel, Borrowed: true);
                case OperandKind.Field:
                    return new Value("f" + CodeWriter.Int(o.Index), Kind.Pixel, Borrowed: true);
                case OperandKind.PlaneSlot when k.Domain == Domain.Pixels:
                    return Broadcast("pl" + CodeWriter.Int(o.Index), o);
                case OperandKind.BatchSlot when k.Domain == Domain.Pixels:
                    return Broadcast("bt" + CodeWriter.Int(o.Index), o);
                case OperandKind.PlaneSlot:
                    return new Value("pl" + CodeWriter.Int(o.Index), Kind.Plane);
                default:
                    return new Value("bt" + CodeWriter.Int(o.Index), Kind.Batch);
            }
        }

        /// <summary>A plane or batch tensor read by a pixel kernel, converted once to the pixel dtype (N×C×1×1 or 0-dim).</summary>
        private Value Broadcast(string tensor, Operand o)
        {
            string name = "u" + tensor;
            if (!_broadcast.Contains(name))
            {
                _w.Line($"var {name} = {TM}.ToPixels({tensor}, {First});{(o.Node >= 0 ? $" // {MathText.Name(_s, o.Node)} broadcast to pixels" : string.Empty)}");
                _broadcast.Add(name);
            }

            return new Value(name, Kind.Broadcast);
        }

        private readonly HashSet<string> _broadcast = new();

        private string AsTensor(Value v, Domain domain) => v.Kind != Kind.Double
            ? v.Text
            : domain switch
            {
                Domain.Pixels or Domain.Filter => $"{TM}.ToField({v.Text}, {First})",
                Domain.Planes => $"{TM}.ToPlanes({v.Text}, shape.N, shape.C, device)",
                _ => $"global::TorchSharp.torch.tensor({v.Text}, {ST}.Float64, device)",
            };

        /// <summary>Any value as a dense pixel tensor of the first input's shape and dtype.</summary>
        private string FieldOf(Value v) => v.Kind == Kind.Pixel ? v.Text : $"{TM}.ToField({v.Text}, {First})";

        /// <summary>Any plane, batch or scalar value as an N×C float64 tensor.</summary>
        private string PlanesOf(Value v) => v.Kind switch
        {
            Kind.Plane => v.Text,
            Kind.Double => $"{TM}.ToPlanes({v.Text}, shape.N, shape.C, device)",
            Kind.Pixel => $"{TM}.SumPlanes({v.Text})", // not produced by the planner: a plane value is a plane value
            _ => $"{TM}.ToPlanes({v.Text}, shape.N, shape.C)",
        };

        private string Comment(int id) => id >= 0 && id < _s.Graph.Count ? " // " + MathText.Expr(_s, id) : string.Empty;

        private string SlotComment(int node) => node >= 0 ? $" // {MathText.Name(_s, node)} = {MathText.Expr(_s, node)}" : string.Empty;

        // ------------------------------------------------------------------ autograd

        public void FunctionClass()
        {
            var w = _w;
            w.Line("/// <summary>");
            w.Line("/// The autograd node of the loss. Forward runs the fused CPU kernel (CPU tensors) or <see cref=\"TorchOps\"/>; with");
            w.Line(None
                ? "/// Reduction.None backward reruns the schedule with the upstream gradient as per-plane seeds."
                : "/// Reduction Mean/Sum the gradient is computed together with the loss and backward scales it by the upstream gradient.");
            w.Line("/// One static instance (TorchSharp's rule): no state in fields.");
            w.Line("/// </summary>");
            w.Open("private sealed class TorchFunction : global::TorchSharp.torch.autograd.SingleTensorFunction<TorchFunction>");
            w.Line($"public override string Name => \"{_name}\";");
            w.Line();
            EmitRunEntry();
            if (Deep)
            {
                EmitRunDeep();
            }

            EmitForward();
            EmitBackward();
            w.Close();
        }

        private string ApplyArgs(System.Func<int, string> input, string call) =>
            string.Join(", ", _inputs.Select((_, i) => input(i))) + ", " + call;

        private void Validate(System.Func<int, string> input, System.Func<int, string> nameOf)
        {
            if (_inputs.Count == 2 && _inputs[0].Role == InputRole.Logits && _inputs[1].Role == InputRole.Target)
            {
                _w.Line($"{TB}.ValidatePair({input(0)}, {input(1)}, {nameOf(0)}, {nameOf(1)});");
            }
            else
            {
                _w.Line($"{TB}.ValidateInputs(new {T}[] {{ {string.Join(", ", _inputs.Select((_, i) => input(i)))} }}, new string[] {{ {string.Join(", ", _inputs.Select((_, i) => nameOf(i)))} }}, new bool[] {{ {string.Join(", ", _inputs.Select(x => x.Role == InputRole.Target ? "true" : "false"))} }});");
            }
        }

        private void EmitRunEntry()
        {
            var w = _w;
            w.Open($"public static {T} Run({Params}, bool forceTensorOps)");
            Validate(In, i => $"\"{_inputs[i].Name}\"");
            w.Line("using var scope = global::TorchSharp.torch.NewDisposeScope();");
            w.Line($"bool tensorOps = forceTensorOps || {First}.device_type != global::TorchSharp.DeviceType.CPU;");
            w.Line("var call = new TorchCall(tensorOps, global::TorchSharp.torch.is_grad_enabled(), ReuseTargetWork: false, Stencils: null);");
            w.Line($"return apply({ApplyArgs(i => $"{TB}.Contiguous({In(i)})", "call")}).MoveToOuterDisposeScope();");
            w.Close();
            w.Line();
        }

        private void EmitRunDeep()
        {
            var w = _w;
            string list = In(DeepInput);
            w.Open($"public static {T} RunDeep({DeepParams}, bool forceTensorOps)");
            w.Line($"global::System.ArgumentNullException.ThrowIfNull({list});");
            w.Line($"if ({list}.Count == 0) throw new global::System.ArgumentException(\"Expected at least one side output.\", \"{DeepName}\");");
            w.Open($"for (int i = 0; i < {list}.Count; i++)");
            Validate(i => i == DeepInput ? $"{list}[i]" : In(i), i => i == DeepInput ? $"$\"{DeepName}[{{i}}]\"" : $"\"{_inputs[i].Name}\"");
            w.Close();
            w.Line();
            w.Line("using var scope = global::TorchSharp.torch.NewDisposeScope();");
            string firstOf(int i) => i == DeepInput ? $"{list}[0]" : In(i);
            w.Line($"bool tensorOps = forceTensorOps || {firstOf(0)}.device_type != global::TorchSharp.DeviceType.CPU;");
            foreach (int i in Enumerable.Range(0, _inputs.Count).Where(i => i != DeepInput))
            {
                w.Line($"var c{i} = {TB}.Contiguous({In(i)});");
            }

            string contig(int i) => i == DeepInput ? $"{TB}.Contiguous({list}[0])" : $"c{i}";
            w.Line("// Target-only work once: the stencils as tensors (tensor ops) or the kernel's reused pre-pass buffers (CPU).");
            w.Line($"var stencils = tensorOps ? TorchOps.Stencils({string.Join(", ", _inputs.Select((_, i) => contig(i)))}) : null;");
            w.Line($"{T}? total = null;");
            w.Open($"for (int i = 0; i < {list}.Count; i++)");
            w.Line("var call = new TorchCall(tensorOps, global::TorchSharp.torch.is_grad_enabled(), ReuseTargetWork: i > 0, stencils);");
            w.Line($"var loss = apply({ApplyArgs(i => i == DeepInput ? $"{TB}.Contiguous({list}[i])" : $"c{i}", "call")});");
            w.Line("total = total is null ? loss : total + loss;");
            w.Close();
            w.Line();
            w.Line("return total!.MoveToOuterDisposeScope();");
            w.Close();
            w.Line();
        }

        private string Span(string t, string tensor, bool readOnly) => $"{TB}.{(readOnly ? "AsReadOnlySpan" : "AsSpan")}<{t}>({tensor})";

        private void EmitForward()
        {
            var w = _w;
            w.Line("/// <inheritdoc/>");
            w.Open($"public override {T} forward(global::TorchSharp.torch.autograd.AutogradContext ctx, params object[] vars)");
            for (int i = 0; i < _inputs.Count; i++)
            {
                w.Line($"var {In(i)} = ({T})vars[{CodeWriter.Int(i)}];");
            }

            w.Line($"var call = (TorchCall)vars[{CodeWriter.Int(_inputs.Count)}];");
            w.Line($"var shape = global::LossDsl.TorchSharp.TensorBridge.ShapeOf({First});");
            w.Line("var wantGrad = new bool[] { " + string.Join(", ", _inputs.Select((inp, i) => inp.Role == InputRole.Logits ? $"call.GradEnabled && {In(i)}.requires_grad" : "false")) + " };");
            w.Line("ctx.save_data(\"call\", call);");
            w.Line("ctx.save_data(\"wantGrad\", wantGrad);");
            if (None)
            {
                ForwardNone();
            }
            else
            {
                ForwardReduced();
            }

            w.Close();
            w.Line();
        }

        private void ForwardReduced()
        {
            var w = _w;
            string reduce = _s.Spec.Reduction == ReductionKind.Mean ? "planes.mean()" : "planes.sum()";
            w.Line($"var grads = new {T}?[{CodeWriter.Int(_inputs.Count)}];");
            w.Line($"{T} loss;");
            w.Open("if (call.TensorOps)");
            w.Line("using var scope = global::TorchSharp.torch.NewDisposeScope();");
            w.Line($"var stencils = call.Stencils ?? TorchOps.Stencils({Args});");
            w.Line($"var computed = TorchOps.Run({Args}, stencils, null, wantGrad, out var planes);");
            w.Line($"loss = {reduce}.to({First}.dtype).MoveToOuterDisposeScope();");
            w.Open("for (int i = 0; i < grads.Length; i++)");
            w.Line("grads[i] = computed[i]?.MoveToOuterDisposeScope();");
            w.Close();
            w.Close();
            foreach (var (t, st) in new[] { ("float", "Float32"), ("double", "Float64") })
            {
                w.Open(t == "float" ? $"else if ({First}.dtype == {ST}.Float32)" : "else");
                w.Line("// Fused CPU kernel on the tensors' memory; the gradient in the same call when it is needed.");
                foreach (int i in _logits)
                {
                    w.Line($"grads[{CodeWriter.Int(i)}] = wantGrad[{CodeWriter.Int(i)}] ? global::TorchSharp.torch.empty_like({In(i)}) : null;");
                }

                string ins = string.Join(", ", _inputs.Select((_, i) => Span(t, In(i), readOnly: true)));
                string grads = string.Join(", ", _logits.Select(i => $"grads[{CodeWriter.Int(i)}] is {{ }} g{i} ? {Span(t, "g" + i, readOnly: false)} : default"));
                w.Line($"double value = Cpu.Compute({ins}, {grads}, default, shape, call.ReuseTargetWork);");
                w.Line($"loss = global::TorchSharp.torch.tensor(value, {First}.dtype, {First}.device);");
                w.Close();
            }

            w.Line();
            w.Line($"ctx.save_for_backward(new global::System.Collections.Generic.List<{T}>(grads!));");
            w.Line("return loss;");
        }

        private void ForwardNone()
        {
            var w = _w;
            w.Line($"{T} planeLosses;");
            w.Open("if (call.TensorOps)");
            w.Line("// The saved tensors must outlive forward (autograd saves them after it returns): no inner scope for the stencils.");
            w.Line($"var stencils = call.Stencils ?? TorchOps.Stencils({Args});");
            w.Open("using (var scope = global::TorchSharp.torch.NewDisposeScope())");
            w.Line($"TorchOps.Run({Args}, stencils, null, new bool[{CodeWriter.Int(_inputs.Count)}], out var planes);");
            w.Line($"planeLosses = planes.to({First}.dtype).MoveToOuterDisposeScope();");
            w.Close();
            w.Line();
            w.Line($"ctx.save_for_backward(new global::System.Collections.Generic.List<{T}>(global::System.Linq.Enumerable.Concat(new[] {{ {Args} }}, stencils)));");
            w.Close();
            foreach (var (t, st) in new[] { ("float", "Float32"), ("double", "Float64") })
            {
                w.Open(t == "float" ? $"else if ({First}.dtype == {ST}.Float32)" : "else");
                w.Line($"planeLosses = global::TorchSharp.torch.empty(new long[] {{ shape.N, shape.C }}, dtype: {First}.dtype, device: {First}.device);");
                string ins = string.Join(", ", _inputs.Select((_, i) => Span(t, In(i), readOnly: true)));
                string grads = string.Join(", ", _logits.Select(_ => "default"));
                w.Line($"Cpu.Compute({ins}, {grads}, {Span(t, "planeLosses", readOnly: false)}, shape, call.ReuseTargetWork);");
                w.Line($"ctx.save_for_backward(new global::System.Collections.Generic.List<{T}> {{ {Args} }});");
                w.Close();
            }

            w.Line();
            w.Line("return planeLosses;");
        }

        private void EmitBackward()
        {
            var w = _w;
            w.Line("/// <inheritdoc/>");
            w.Open($"public override global::System.Collections.Generic.List<{T}> backward(global::TorchSharp.torch.autograd.AutogradContext ctx, {T} gradOutput)");
            w.Line("using var scope = global::TorchSharp.torch.NewDisposeScope();");
            w.Line("var saved = ctx.get_saved_variables();");
            w.Line($"var result = new global::System.Collections.Generic.List<{T}>(new {T}[{CodeWriter.Int(_inputs.Count + 1)}]); // one entry per forward argument (the last is the call)");
            if (None)
            {
                w.Line("var call = (TorchCall)ctx.get_data(\"call\");");
                w.Line("var wantGrad = (bool[])ctx.get_data(\"wantGrad\");");
                for (int i = 0; i < _inputs.Count; i++)
                {
                    w.Line($"var {In(i)} = saved[{CodeWriter.Int(i)}];");
                }

                w.Line($"var seeds = {TB}.Contiguous(gradOutput);");
                w.Open("if (call.TensorOps)");
                w.Line($"var grads = TorchOps.Run({Args}, global::System.Linq.Enumerable.ToArray(global::System.Linq.Enumerable.Skip(saved, {CodeWriter.Int(_inputs.Count)})), seeds, wantGrad, out _);");
                w.Open("for (int i = 0; i < grads.Length; i++)");
                w.Line("result[i] = grads[i]?.MoveToOuterDisposeScope()!;");
                w.Close();
                w.Close();
                foreach (var t in new[] { "float", "double" })
                {
                    w.Open(t == "float" ? $"else if ({First}.dtype == global::TorchSharp.torch.ScalarType.Float32)" : "else");
                    w.Line($"var shape = global::LossDsl.TorchSharp.TensorBridge.ShapeOf({First});");
                    foreach (int i in _logits)
                    {
                        w.Line($"var g{i} = wantGrad[{CodeWriter.Int(i)}] ? global::TorchSharp.torch.empty_like({In(i)}) : null;");
                    }

                    string ins = string.Join(", ", _inputs.Select((_, i) => Span(t, In(i), readOnly: true)));
                    string grads = string.Join(", ", _logits.Select(i => $"g{i} is null ? default : {Span(t, "g" + i, readOnly: false)}"));
                    w.Line($"Cpu.Backward({ins}, {Span(t, "seeds", readOnly: true)}, {grads}, shape);");
                    foreach (int i in _logits)
                    {
                        w.Line($"result[{CodeWriter.Int(i)}] = g{i}?.MoveToOuterDisposeScope()!;");
                    }

                    w.Close();
                }
            }
            else
            {
                w.Line("// The gradient was computed with the loss; scale it by the upstream gradient (no op when that is a CPU scalar 1).");
                w.Open($"for (int i = 0; i < {CodeWriter.Int(_inputs.Count)}; i++)");
                w.Line($"result[i] = saved[i] is {{ }} g ? {TB}.ScaleByUpstream(g, gradOutput).MoveToOuterDisposeScope() : null!;");
                w.Close();
            }

            w.Line();
            w.Line("return result;");
            w.Close();
        }
    }
}
