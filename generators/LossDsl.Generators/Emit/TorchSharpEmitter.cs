using System.Collections.Generic;
using System.Linq;
using LossDsl.Generators.Model;
using LossDsl.Generators.Schedule;

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

    public static string? Emit(ScheduleSpec s)
    {
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
        private readonly ScheduleSpec _s;
        private readonly Graph _g;
        private readonly CodeWriter _w;
        private readonly List<InputSpec> _inputs;
        private readonly List<int> _logits;
        private readonly string _name;

        public Writer(ScheduleSpec s, CodeWriter w)
        {
            _s = s;
            _g = s.Graph;
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

        private static string ListName(string name) => Shell.ListName(name);

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

        private void EmitStencils()
        {
            var w = _w;
            w.Line("/// <summary>The target-only stencil pre-pass, one tensor per stencil (in dependency order).</summary>");
            w.Open($"internal static {T}[] Stencils({Params})");
            if (_s.Stencils.Count == 0)
            {
                w.Line($"return global::System.Array.Empty<{T}>();");
                w.Close();
                w.Line();
                return;
            }

            w.Line("using var scope = global::TorchSharp.torch.NewDisposeScope();");
            var defined = new HashSet<int>();
            foreach (var st in _s.Stencils)
            {
                foreach (int id in st.SourceProgram)
                {
                    if (IsInput(id) || defined.Contains(id))
                    {
                        continue;
                    }

                    w.Line($"var v{id} = {PixelExpr(id)}; // {MathText.Expr(_s, id)}");
                    defined.Add(id);
                }

                string fn = st.Kind switch { Op.AvgPool => "AvgPool", Op.MaxPool => "MaxPool", _ => "MinPool" };
                w.Line($"var v{st.Node} = {TM}.{fn}({PixelName(st.Source)}, {CodeWriter.Int(st.Kernel)}); // {MathText.Expr(_s, st.Node)}");
                defined.Add(st.Node);
            }

            w.Line($"return new {T}[] {{ {string.Join(", ", _s.Stencils.Select(st => $"v{st.Node}.MoveToOuterDisposeScope()"))} }};");
            w.Close();
            w.Line();
        }

        private void EmitRun()
        {
            var w = _w;
            var spec = _s.Spec;
            w.Line("/// <summary>");
            w.Line("/// Runs the schedule as tensor ops: writes the per-plane losses (N×C, float64) and returns d loss / d input for each input");
            w.Line("/// whose <paramref name=\"wantGrad\"/> entry is true (null otherwise), for the upstream gradient <paramref name=\"planeSeeds\"/>");
            w.Line($"/// per plane (null: {(spec.Reduction == ReductionKind.Mean ? "1 / (N·C)" : "1")} each, the gradient of the reduced loss).");
            w.Line("/// </summary>");
            w.Open($"internal static {T}?[] Run({Params}, {T}[] stencils, {T}? planeSeeds, bool[] wantGrad, out {T} planeLosses)");
            w.Line("using var scope = global::TorchSharp.torch.NewDisposeScope();");
            w.Line($"var dtype = {First}.dtype;");
            w.Line($"var device = {First}.device;");
            // No n/c locals: the inputs' names are the user's (an input may be called n or c); shape is reserved.
            w.Line($"var shape = new global::LossDsl.LossShape((int){First}.shape[0], (int){First}.shape[1], (int){First}.shape[2], (int){First}.shape[3]);");
            foreach (int x in _s.ShapeScalars)
            {
                w.Line($"double sv{x} = {ShapeExpr(x)}; // {MathText.Expr(_s, x)}");
            }

            for (int k = 0; k < _s.Stencils.Count; k++)
            {
                w.Line($"var v{_s.Stencils[k].Node} = stencils[{CodeWriter.Int(k)}]; // {MathText.Expr(_s, _s.Stencils[k].Node)}");
            }

            var defined = new HashSet<int>(_s.Stencils.Select(st => st.Node));
            var hoisted = new HashSet<int>();
            w.Line();
            w.Line("// Forward sweep: per-pixel values as whole tensors.");
            PixelProgram(_s.ForwardProgram, defined, hoisted);
            w.Line("// Reductions, accumulated in float64.");
            foreach (int a in _s.Accumulators)
            {
                var node = _g[a];
                string arg = FieldOf(node.Args[0]);
                w.Line($"var v{a} = {TM}.{(node.Op == Op.Sum ? "SumPlanes" : "SumAll")}({arg}); // {MathText.Expr(_s, a)}");
            }

            if (_s.BatchForward.Count > 0)
            {
                w.Line("// Batch epilogue.");
                foreach (int b in _s.BatchForward)
                {
                    w.Line($"var v{b} = {EpilogueExpr(b)}; // {MathText.Expr(_s, b)}");
                }
            }

            w.Line("// Plane epilogue on N×C float64 tensors: loss, seed and adjoints.");
            string defaultSeed = spec.Reduction == ReductionKind.Mean ? "1.0 / shape.Planes" : "1.0";
            w.Line($"var seed = planeSeeds is null ? {TM}.ToPlanes({defaultSeed}, shape.N, shape.C, device) : planeSeeds.to({ST}.Float64);");
            foreach (int id in _s.PlaneStatements)
            {
                w.Line($"var v{id} = {EpilogueExpr(id)}; // {MathText.Expr(_s, id)}");
            }

            w.Line($"planeLosses = {PlanesOf(_s.PlaneLoss)}.MoveToOuterDisposeScope();");
            foreach (int ps in _s.PlaneSums)
            {
                int arg = _g[ps].Args[0];
                string value = Kind(arg) == Rank.Plane ? $"{EpilogueName(arg)}.sum()" : $"{EpilogueName(arg)} * shape.Planes";
                w.Line($"var v{ps} = {value}; // {MathText.Expr(_s, ps)}");
            }

            if (_s.BatchAdjoint.Count > 0)
            {
                w.Line("// Batch adjoints.");
                foreach (int b in _s.BatchAdjoint)
                {
                    w.Line($"var v{b} = {EpilogueExpr(b)}; // {MathText.Expr(_s, b)}");
                }
            }

            w.Line($"var grads = new {T}?[{CodeWriter.Int(_inputs.Count)}];");
            if (_s.Gradients.Count > 0)
            {
                w.Line();
                w.Line("// Backward sweep: per-pixel gradients, reusing the forward's tensors.");
                w.Open($"if ({string.Join(" || ", _s.Gradients.Select(g => $"wantGrad[{CodeWriter.Int(g.Input)}]"))})");
                PixelProgram(_s.BackwardProgram, defined, hoisted);
                foreach (var g in _s.Gradients)
                {
                    string value = FieldOf(g.Node);
                    if (_g[g.Node].Rank == Rank.Field && (IsInput(g.Node) || _s.Stencils.Any(st => st.Node == g.Node)))
                    {
                        value += ".clone()";
                    }

                    // With one differentiable input the enclosing block already checked its flag.
                    string guard = _s.Gradients.Select(x => x.Input).Distinct().Count() > 1 ? $"if (wantGrad[{CodeWriter.Int(g.Input)}]) " : string.Empty;
                    w.Line($"{guard}grads[{CodeWriter.Int(g.Input)}] = {value}.MoveToOuterDisposeScope(); // d/d {_inputs[g.Input].Name}");
                }

                w.Close();
            }

            w.Line("return grads;");
            w.Close();
        }

        private void PixelProgram(IEnumerable<int> program, HashSet<int> defined, HashSet<int> hoisted)
        {
            foreach (int id in program)
            {
                if (IsInput(id) || defined.Contains(id))
                {
                    continue;
                }

                foreach (int a in _g[id].Args)
                {
                    var r = _g[a].Rank;
                    if ((r == Rank.Plane || r == Rank.Batch) && hoisted.Add(a))
                    {
                        _w.Line($"var f{a} = {TM}.ToPixels({EpilogueName(a)}, dtype); // {MathText.Name(_s, a)} broadcast to pixels");
                    }
                }

                _w.Line($"var v{id} = {PixelExpr(id)}; // {MathText.Expr(_s, id)}");
                defined.Add(id);
            }
        }

        private bool IsInput(int id) => _g[id].Op == Op.Input;

        /// <summary>The rank a node's value has at emission: Scalar (a C# double), Batch/Plane (float64 tensors) or Field (pixel tensors).</summary>
        private Rank Kind(int id) => _g[id].Op == Op.Const ? Rank.Scalar : _g[id].Rank;

        private string ShapeName(int id) => _g[id].Op switch
        {
            Op.Const => CodeWriter.Num(_g[id].Value),
            _ => $"sv{id}",
        };

        private string ShapeExpr(int id)
        {
            var n = _g[id];
            return n.Op switch
            {
                Op.PlaneSize => "(double)shape.PlaneSize",
                Op.BatchSize => "(double)shape.Length",
                _ => Expr(id, ShapeName, _ => Rank.Scalar),
            };
        }

        private string PixelName(int id)
        {
            var n = _g[id];
            return n.Op switch
            {
                Op.Const => CodeWriter.Num(n.Value),
                Op.Input => In((int)n.Value),
                _ when n.Rank == Rank.Field => $"v{id}",
                _ when n.Rank == Rank.Scalar => ShapeName(id),
                _ => $"f{id}",
            };
        }

        private string EpilogueName(int id)
        {
            var n = _g[id];
            return n.Op switch
            {
                Op.Const => CodeWriter.Num(n.Value),
                Op.Seed => "seed",
                _ when n.Rank == Rank.Scalar => ShapeName(id),
                _ => $"v{id}",
            };
        }

        private string PixelExpr(int id) => Expr(id, PixelName, Kind);

        private string EpilogueExpr(int id) => Expr(id, EpilogueName, Kind);

        /// <summary>Any node as a dense pixel tensor of the first input's shape and dtype.</summary>
        private string FieldOf(int id) => Kind(id) switch
        {
            Rank.Field => PixelName(id),
            Rank.Scalar => $"{TM}.ToField({PixelName(id)}, {First})",
            _ => $"{TM}.ToField({EpilogueName(id)}, {First})",
        };

        /// <summary>A plane-loss node as an N×C float64 tensor.</summary>
        private string PlanesOf(int id) => Kind(id) switch
        {
            Rank.Scalar => $"{TM}.ToPlanes({EpilogueName(id)}, shape.N, shape.C, device)",
            Rank.Field => $"{TM}.SumPlanes({PixelName(id)})", // not produced by the scheduler (a plane loss is a plane value)
            _ => $"{TM}.ToPlanes({EpilogueName(id)}, shape.N, shape.C)",
        };

        private string Expr(int id, System.Func<int, string> name, System.Func<int, Rank> kind)
        {
            var n = _g[id];
            string A(int i) => name(n.Args[i]);
            bool D(int i) => kind(n.Args[i]) == Rank.Scalar;
            bool allScalar = n.Args.All(a => kind(a) == Rank.Scalar);
            string k = CodeWriter.Num(n.Value);
            string k2 = CodeWriter.Num(n.Value2);
            if (allScalar)
            {
                // Shape-scalar arithmetic in C# doubles.
                return n.Op switch
                {
                    Op.Neg => $"-{A(0)}",
                    Op.Add => $"{A(0)} + {A(1)}",
                    Op.Sub => $"{A(0)} - {A(1)}",
                    Op.Mul => $"{A(0)} * {A(1)}",
                    Op.Div => $"{A(0)} / {A(1)}",
                    Op.Abs => $"global::System.Math.Abs({A(0)})",
                    Op.Exp => $"global::System.Math.Exp({A(0)})",
                    Op.Log => $"global::System.Math.Log({A(0)})",
                    Op.Sqrt => $"global::System.Math.Sqrt({A(0)})",
                    Op.Square => $"{A(0)} * {A(0)}",
                    Op.Pow => $"global::System.Math.Pow({A(0)}, {k})",
                    Op.Min => $"global::System.Math.Min({A(0)}, {A(1)})",
                    Op.Max => $"global::System.Math.Max({A(0)}, {A(1)})",
                    Op.Sigmoid => $"global::LossDsl.Scalar.Sigmoid({A(0)})",
                    Op.LogSigmoid => $"global::LossDsl.Scalar.LogSigmoid({A(0)})",
                    Op.Softplus => $"global::LossDsl.Scalar.Softplus({A(0)})",
                    Op.Sign => $"global::LossDsl.Scalar.Sign({A(0)})",
                    Op.Step => $"global::LossDsl.Scalar.Step({A(0)}, {A(1)})",
                    Op.InRange => $"global::LossDsl.Scalar.InRange({A(0)}, {k}, {k2})",
                    Op.Clamp => $"global::LossDsl.Scalar.Clamp({A(0)}, {k}, {k2})",
                    Op.BceWithLogits => $"global::LossDsl.Scalar.BceWithLogits({A(0)}, {A(1)})",
                    _ => $"/* unsupported {n.Op} */ default",
                };
            }

            return n.Op switch
            {
                Op.Neg => $"{A(0)}.neg()",
                Op.Add => $"{A(0)} + {A(1)}",
                Op.Sub => $"{A(0)} - {A(1)}",
                Op.Mul => $"{A(0)} * {A(1)}",
                Op.Div => $"{A(0)} / {A(1)}",
                Op.Abs => $"{A(0)}.abs()",
                Op.Exp => $"{A(0)}.exp()",
                Op.Log => $"{A(0)}.log()",
                Op.Sqrt => $"{A(0)}.sqrt()",
                Op.Square => $"{A(0)}.square()",
                Op.Pow => $"{A(0)}.pow({k})",
                Op.Sigmoid => $"{A(0)}.sigmoid()",
                Op.LogSigmoid => $"global::TorchSharp.torch.nn.functional.logsigmoid({A(0)})",
                Op.Softplus => $"global::TorchSharp.torch.nn.functional.softplus({A(0)})",
                Op.Sign => $"{A(0)}.sign()",
                Op.Clamp => $"{A(0)}.clamp({k}, {k2})",
                Op.InRange => $"{TM}.InRange({A(0)}, {k}, {k2})",
                Op.Min => $"{TM}.Min({A(0)}, {A(1)})",
                Op.Max => $"{TM}.Max({A(0)}, {A(1)})",
                Op.Step => $"{TM}.Step({A(0)}, {A(1)})",
                Op.BceWithLogits when D(0) || D(1) => $"{TM}.BceWithLogits({FieldOf(n.Args[0])}, {FieldOf(n.Args[1])})",
                Op.BceWithLogits => $"{TM}.BceWithLogits({A(0)}, {A(1)})",
                _ => $"/* unsupported {n.Op} */ default",
            };
        }

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
            w.Line($"var shape = new global::LossDsl.LossShape((int){First}.shape[0], (int){First}.shape[1], (int){First}.shape[2], (int){First}.shape[3]);");
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
                    w.Line($"var shape = new global::LossDsl.LossShape((int){First}.shape[0], (int){First}.shape[1], (int){First}.shape[2], (int){First}.shape[3]);");
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
                w.Line("// The gradient was computed with the loss; scale it by the upstream gradient.");
                w.Open($"for (int i = 0; i < {CodeWriter.Int(_inputs.Count)}; i++)");
                w.Line("result[i] = saved[i] is { } g ? (g * gradOutput).MoveToOuterDisposeScope() : null!;");
                w.Close();
            }

            w.Line();
            w.Line("return result;");
            w.Close();
        }
    }
}
