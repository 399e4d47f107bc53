using System.Collections.Generic;
using System.Linq;
using LossDsl.Generators.Model;
using LossDsl.Generators.Schedule;

namespace LossDsl.Generators.Emit;

/// <summary>
/// Emits <c>L.Ilgpu</c>: the schedule printed as ILGPU kernels plus a runner class that loads them once per accelerator and
/// keeps its scratch buffers between calls. Kernels, in launch order:
/// <list type="number">
/// <item>stencil pre-pass: per stencil, the source program into scratch (unless the source is an input), then the shared
/// separable kernels of <c>LossDsl.Ilgpu.IlgpuStencils</c> (box filter as running sums: a thread per row, then per column);</item>
/// <item><c>Forward</c>: explicitly grouped, each group sweeping a strided share of one plane, partial sums in double,
/// a group reduction (ILGPU.Algorithms) and one <c>Atomic.Add</c> per group and accumulator into per-plane sums;</item>
/// <item><c>BatchForward</c> (single thread, only when the loss has batch values), <c>Plane</c> (a thread per plane),
/// <c>Finish</c> (single thread: the loss, the sums over planes and the batch adjoints, in a fixed order);</item>
/// <item><c>Backward</c>: a thread per pixel, recomputing the per-pixel values and writing the gradients.</item>
/// </list>
/// Per-pixel programs run in <c>float</c>, everything per plane or per batch in <c>double</c>; math goes through
/// <c>LossDsl.Ilgpu.DeviceMath</c> (over XMath) so the kernels compile for PTX.
/// </summary>
internal static class IlgpuEmitter
{
    private const string AV = "global::ILGPU.ArrayView<float>";
    private const string AVD = "global::ILGPU.ArrayView<double>";
    private const string DM = "global::LossDsl.Ilgpu.DeviceMath";
    private const string Bridge = "global::LossDsl.Ilgpu.IlgpuBridge";
    private const string Stencils = "global::LossDsl.Ilgpu.IlgpuStencils";
    private const string Idx = "global::ILGPU.Index1D";
    private const string Acc = "global::ILGPU.Runtime.Accelerator";
    private const string FloatBuffer = "global::ILGPU.Runtime.MemoryBuffer1D<float, global::ILGPU.Stride1D.Dense>";
    private const string DoubleBuffer = "global::ILGPU.Runtime.MemoryBuffer1D<double, global::ILGPU.Stride1D.Dense>";

    /// <summary>ILGPU's loaders take at most 14 kernel parameters (explicitly grouped) or 15 including the index (auto-grouped).</summary>
    internal const int MaxLoaderArity = 14;

    /// <summary>
    /// The file, or null when a kernel needs more than <see cref="MaxLoaderArity"/> parameters; the generator then reports
    /// LD0020 (see <see cref="ParameterCount"/>) instead of emitting code that cannot be loaded.
    /// </summary>
    public static string? Emit(ScheduleSpec s)
    {
        var k = new KernelWriter(s);
        return k.MaxParameters <= MaxLoaderArity ? Shell.Write(s.Spec, k.Emit) : null;
    }

    /// <summary>The largest number of parameters (after the index) of any kernel the ILGPU backend of <paramref name="s"/> has.</summary>
    public static int ParameterCount(ScheduleSpec s) => new KernelWriter(s).MaxParameters;

    /// <summary>One kernel: its name, whether it is explicitly grouped, and its parameters after the index.</summary>
    private sealed record Kernel(string Name, bool Grouped, List<(string Type, string Name)> Params, string Method)
    {
        public string DelegateType => Grouped
            ? $"global::System.Action<global::ILGPU.Runtime.AcceleratorStream, global::ILGPU.KernelConfig, {string.Join(", ", Params.Select(p => p.Type))}>"
            : $"global::System.Action<global::ILGPU.Runtime.AcceleratorStream, {Idx}, {string.Join(", ", Params.Select(p => p.Type))}>";

        public string Load => Grouped
            ? $"global::ILGPU.Runtime.KernelLoaders.LoadKernel<{string.Join(", ", Params.Select(p => p.Type))}>(accelerator, {Method})"
            : $"global::ILGPU.Runtime.KernelLoaders.LoadAutoGroupedKernel<{Idx}, {string.Join(", ", Params.Select(p => p.Type))}>(accelerator, {Method})";

        public string Field => "_" + char.ToLowerInvariant(Name[0]) + Name.Substring(1);

        public string Signature => (Grouped ? string.Empty : $"{Idx} index, ") + string.Join(", ", Params.Select(p => $"{p.Type} {p.Name}"));
    }

    private sealed class KernelWriter
    {
        private readonly ScheduleSpec _s;
        private readonly Graph _g;
        private readonly List<InputSpec> _inputs;
        private readonly List<int> _logits;
        private readonly Dictionary<int, int> _stencilSlot = new();
        private readonly Dictionary<int, int> _planeSlot = new();
        private readonly Dictionary<int, int> _planeSumSlot = new();
        private readonly Dictionary<int, int> _batchSlot = new();
        private readonly List<Kernel> _kernels = new();
        private readonly Kernel _forward;
        private readonly Kernel? _batchForward;
        private readonly Kernel _plane;
        private readonly Kernel _finish;
        private readonly Kernel? _backward;
        private readonly Dictionary<int, Kernel> _sources = new();
        private readonly bool _hasBox;
        private readonly bool _hasExtremum;

        public KernelWriter(ScheduleSpec s)
        {
            _s = s;
            _g = s.Graph;
            _inputs = s.Spec.Inputs.ToList();
            _logits = Enumerable.Range(0, _inputs.Count).Where(i => _inputs[i].Role == InputRole.Logits).ToList();
            for (int i = 0; i < s.Stencils.Count; i++)
            {
                _stencilSlot[s.Stencils[i].Node] = i;
            }

            // Per-plane slots: 0 = the plane loss, then the saved plane values, then the terms of the sums over planes.
            int slot = 1;
            foreach (int p in s.SavedPlanes)
            {
                _planeSlot[p] = slot++;
            }

            foreach (int ps in s.PlaneSums)
            {
                _planeSumSlot[ps] = slot++;
            }

            PlaneSlots = slot;
            foreach (int b in BatchAccumulators.Select(x => x.Id).Concat(s.BatchForward).Concat(s.PlaneSums).Concat(s.BatchAdjoint))
            {
                if (!_batchSlot.ContainsKey(b))
                {
                    _batchSlot[b] = _batchSlot.Count;
                }
            }

            _hasBox = s.Stencils.Any(st => st.Kind == Op.AvgPool);
            _hasExtremum = s.Stencils.Any(st => st.Kind != Op.AvgPool);

            // Kernels and Run call the inputs in0, in1, … and their gradients grad0, …: only the public entry points have
            // parameters named after the inputs (an input may be called like any kernel parameter or local: w, h, batch, …).
            var ins = _inputs.Select((_, i) => (AV, "in" + CodeWriter.Int(i))).ToList();
            var stencilParam = s.Stencils.Count > 0 ? new List<(string, string)> { (AV, "stencils") } : new List<(string, string)>();
            foreach (var st in s.Stencils.Where(st => !IsInput(st.Source)))
            {
                var k = new Kernel($"Source{st.Node}", false, ins.Concat(stencilParam).Concat(new[] { (AV, "dst"), ("int", "hw"), ("int", "length") }).ToList(), $"Source{st.Node}");
                _sources[st.Node] = k;
                _kernels.Add(k);
            }

            _forward = new Kernel("Forward", true, ins.Concat(stencilParam).Concat(new[] { (AVD, "sums"), ("int", "hw"), ("int", "length"), ("int", "groupsPerPlane") }).ToList(), "Forward");
            _kernels.Add(_forward);
            if (BatchAccumulators.Count > 0 || s.BatchForward.Count > 0)
            {
                _batchForward = new Kernel("BatchForward", false, new List<(string, string)> { (AVD, "sums"), (AVD, "batch"), ("int", "planes"), ("int", "hw"), ("int", "length") }, "BatchForward");
                _kernels.Add(_batchForward);
            }

            _plane = new Kernel("Plane", false, new List<(string, string)> { (AVD, "sums"), (AVD, "batch"), (AVD, "planeValues"), (AV, "planeSeeds"), ("int", "hasSeeds"), (AV, "planeLosses"), ("int", "planes"), ("int", "hw"), ("int", "length") }, "Plane");
            _kernels.Add(_plane);
            _finish = new Kernel("Finish", false, new List<(string, string)> { (AVD, "planeValues"), (AVD, "batch"), (AV, "lossOut"), ("int", "planes"), ("int", "hw"), ("int", "length") }, "Finish");
            _kernels.Add(_finish);
            if (_logits.Count > 0 && s.Gradients.Count > 0)
            {
                _backward = new Kernel("Backward", false, ins.Concat(stencilParam).Concat(new[] { (AVD, "planeValues"), (AVD, "batch") })
                    .Concat(_logits.Select(i => (AV, "grad" + CodeWriter.Int(i)))).Concat(new[] { ("int", "gradMask"), ("int", "hw"), ("int", "length") }).ToList(), "Backward");
                _kernels.Add(_backward);
            }

            MaxParameters = _kernels.Max(k => k.Params.Count);
        }

        public int MaxParameters { get; }

        private int PlaneSlots { get; }

        private int BatchSlots => System.Math.Max(1, _batchSlot.Count);

        private List<(int Id, int Slot)> BatchAccumulators => _s.Accumulators.Select((id, a) => (id, a)).Where(x => _g[x.id].Op == Op.BatchSum).ToList();

        private string GradName(int input) => CpuEmitter.GradName(_inputs[input]);

        private bool IsInput(int id) => _g[id].Op == Op.Input;

        public void Emit(CodeWriter w)
        {
            w.Doc("summary", Doc());
            w.Line(Shell.GeneratedCode);
            w.Open("public sealed class Ilgpu : global::System.IDisposable");
            EmitFields(w);
            EmitConstructor(w);
            EmitEntryPoints(w);
            EmitRun(w);
            EmitDispose(w);
            EmitStencilSources(w);
            EmitForward(w);
            EmitEpilogues(w);
            EmitBackward(w);
            w.Close();
        }

        private string Doc()
        {
            var lines = new List<string>
            {
                "ILGPU backend (generated from the schedule below): runs on CUDA, OpenCL and the CPU accelerator. Kernels are loaded",
                "once per instance; scratch buffers are kept and grown as needed. An instance is not thread-safe: use one per stream.",
                "Launches: stencil pre-pass (separable; box filter as running sums, a thread per row then per column), Forward",
                "(grouped grid-stride sweep per plane, double partials, group reduction, one atomic add per group and accumulator),",
                "BatchForward / Plane / Finish epilogues (double), Backward (a thread per pixel). Sums over planes run in a fixed order;",
                "the per-plane sums depend on the order of the atomic adds, so results may differ between runs in the last bits.",
                "<code>",
            };
            lines.AddRange(MathText.Dump(_s).TrimEnd('\n').Split('\n').Select(l => System.Security.SecurityElement.Escape(l)));
            lines.Add("</code>");
            return string.Join("\n", lines);
        }

        // -------------------------------------------------------------- host side

        private void EmitFields(CodeWriter w)
        {
            w.Line($"private const int Accumulators = {CodeWriter.Int(System.Math.Max(1, _s.Accumulators.Count))};");
            w.Line($"private const int PlaneSlots = {CodeWriter.Int(PlaneSlots)}; // 0: plane loss{string.Concat(_planeSlot.Select(kv => $", {kv.Value}: v{kv.Key}"))}{string.Concat(_planeSumSlot.Select(kv => $", {kv.Value}: term of v{kv.Key}"))}");
            w.Line($"private const int BatchSlots = {CodeWriter.Int(BatchSlots)};{(_batchSlot.Count > 0 ? " //" + string.Join(",", _batchSlot.Select(kv => $" {kv.Value}: v{kv.Key}")) : string.Empty)}");
            w.Line();
            w.Line($"private readonly {Acc} _accelerator;");
            w.Line("private readonly int _groupSize;");
            if (_hasBox)
            {
                w.Line($"private readonly global::System.Action<global::ILGPU.Runtime.AcceleratorStream, {Idx}, {AV}, {AV}, int, int> _boxRows;");
                w.Line($"private readonly global::System.Action<global::ILGPU.Runtime.AcceleratorStream, {Idx}, {AV}, {AV}, int, int, int> _boxColumns;");
            }

            if (_hasExtremum)
            {
                w.Line($"private readonly global::System.Action<global::ILGPU.Runtime.AcceleratorStream, {Idx}, {AV}, {AV}, int, int, int> _extremumRows;");
                w.Line($"private readonly global::System.Action<global::ILGPU.Runtime.AcceleratorStream, {Idx}, {AV}, {AV}, int, int, int, int> _extremumColumns;");
            }

            foreach (var k in _kernels)
            {
                w.Line($"private readonly {k.DelegateType} {k.Field};");
            }

            w.Line($"private readonly {FloatBuffer} _dummy;");
            if (_s.Stencils.Count > 0)
            {
                w.Line($"private {FloatBuffer}? _stencilBuffer; // {string.Join(", ", _s.Stencils.Select(st => $"v{st.Node} = {MathText.Expr(_s, st.Node)}"))}");
                w.Line($"private {FloatBuffer}? _workBuffer; // stencil source and row pass");
            }

            w.Line($"private {DoubleBuffer}? _sumBuffer;");
            w.Line($"private {DoubleBuffer}? _planeBuffer;");
            w.Line($"private {DoubleBuffer}? _batchBuffer;");
            w.Line($"private {FloatBuffer}? _planeLossBuffer;");
            w.Line($"private {FloatBuffer}? _lossBuffer;");
            w.Line("private bool _disposed;");
            w.Line();
        }

        private void EmitConstructor(CodeWriter w)
        {
            w.Doc("summary", "Loads the kernels for <paramref name=\"accelerator\"/> (compiling them on first use) and allocates nothing else until the first call.\nCreate the accelerator's context with <c>EnableAlgorithms()</c> (as <see cref=\"global::LossDsl.Ilgpu.IlgpuBridge.CreateContext\"/> does) for GPU targets.");
            w.Line("/// <param name=\"accelerator\">The accelerator every view passed to this instance must belong to; not owned (not disposed here).</param>");
            w.Open($"public Ilgpu({Acc} accelerator)");
            w.Line("global::System.ArgumentNullException.ThrowIfNull(accelerator);");
            w.Line("_accelerator = accelerator;");
            w.Line($"_groupSize = {Bridge}.GroupSize(accelerator);");
            if (_hasBox)
            {
                w.Line($"_boxRows = global::ILGPU.Runtime.KernelLoaders.LoadAutoGroupedKernel<{Idx}, {AV}, {AV}, int, int>(accelerator, {Stencils}.BoxRows);");
                w.Line($"_boxColumns = global::ILGPU.Runtime.KernelLoaders.LoadAutoGroupedKernel<{Idx}, {AV}, {AV}, int, int, int>(accelerator, {Stencils}.BoxColumns);");
            }

            if (_hasExtremum)
            {
                w.Line($"_extremumRows = global::ILGPU.Runtime.KernelLoaders.LoadAutoGroupedKernel<{Idx}, {AV}, {AV}, int, int, int>(accelerator, {Stencils}.ExtremumRows);");
                w.Line($"_extremumColumns = global::ILGPU.Runtime.KernelLoaders.LoadAutoGroupedKernel<{Idx}, {AV}, {AV}, int, int, int, int>(accelerator, {Stencils}.ExtremumColumns);");
            }

            foreach (var k in _kernels)
            {
                w.Line($"{k.Field} = {k.Load};");
            }

            w.Line("_dummy = accelerator.Allocate1D<float>(1);");
            w.Close();
            w.Line();
        }

        private string Ins(string type) => string.Join(", ", _inputs.Select(i => $"{type} @{i.Name}"));

        private string Grads(string type) => string.Join(", ", _logits.Select(i => $"{type} @{GradName(i)}"));

        private string InArgs => string.Join(", ", _inputs.Select(i => "@" + i.Name));

        private string GradArgs => string.Join(", ", _logits.Select(i => "@" + GradName(i)));

        private static string In(int i) => "in" + CodeWriter.Int(i);

        private static string Grad(int i) => "grad" + CodeWriter.Int(i);

        private string RunIns => string.Join(", ", _inputs.Select((_, i) => $"{AV} {In(i)}"));

        private string RunGrads => string.Join(", ", _logits.Select(i => $"{AV} {Grad(i)}"));

        private string RunInArgs => string.Join(", ", _inputs.Select((_, i) => In(i)));

        private string Reduced => _s.Spec.Reduction switch
        {
            ReductionKind.Mean => "the mean over the N×C planes of the per-plane loss",
            ReductionKind.Sum => "the sum over the N×C planes of the per-plane loss",
            _ => "the sum over the N×C planes of the per-plane loss (Reduction.None: pass <c>planeLosses</c> for each plane's value)",
        };

        private void DocInputs(CodeWriter w)
        {
            foreach (var i in _inputs)
            {
                w.Line($"/// <param name=\"{i.Name}\">{(i.Role == InputRole.Logits ? "Logits" : "Target")}, contiguous NCHW, <c>shape.Length</c> values on this instance's accelerator.</param>");
            }
        }

        private void DocGrads(CodeWriter w, string what)
        {
            foreach (int i in _logits)
            {
                w.Line($"/// <param name=\"{GradName(i)}\">Receives {what}{(what.Length > 0 ? " " : string.Empty)}d loss / d {_inputs[i].Name} (same length), or an empty view to skip the backward kernel.</param>");
            }
        }

        private void EmitEntryPoints(CodeWriter w)
        {
            string sep = _logits.Count > 0 ? ", " : string.Empty;
            w.Doc("summary", $"Computes the loss — {Reduced} — and, where a gradient view is not empty, writes d loss / d input into it.\nWaits for the device and copies one float back; use the overload with <c>lossOut</c> to stay on the device.");
            DocInputs(w);
            DocGrads(w, string.Empty);
            w.Line("/// <param name=\"shape\">The NCHW shape.</param>");
            w.Line("/// <returns>The loss.</returns>");
            w.Line("/// <exception cref=\"global::System.ArgumentException\">A view's length does not match <paramref name=\"shape\"/>, or a view belongs to another accelerator.</exception>");
            w.Line("/// <exception cref=\"global::System.ObjectDisposedException\">This instance was disposed.</exception>");
            // The entry points' parameters are named after the inputs: members through this., locals start with __.
            w.Open($"public float Compute({Ins(AV)}{sep}{Grads(AV)}, global::LossDsl.LossShape shape)");
            w.Line($"{Bridge}.ThrowIfDisposed(this._disposed, this);");
            w.Line($"{AV} __loss = {Bridge}.Ensure(this._accelerator, ref this._lossBuffer, 1);");
            w.Line($"this.Run({InArgs}{sep}{GradArgs}, __loss, default, default, shape);");
            w.Line("float __result = 0;");
            w.Line("global::ILGPU.Runtime.ArrayViewExtensions.CopyToCPU(__loss, this._accelerator.DefaultStream, ref __result, 1);");
            w.Line("this._accelerator.DefaultStream.Synchronize();");
            w.Line("return __result;");
            w.Close();
            w.Line();

            w.Doc("summary", "Computes the loss into <paramref name=\"lossOut\"/> on the device (no host round trip, no wait) and, where a gradient view is not empty, the gradient.");
            DocInputs(w);
            DocGrads(w, string.Empty);
            w.Line("/// <param name=\"lossOut\">Receives the loss (one element).</param>");
            w.Line("/// <param name=\"shape\">The NCHW shape.</param>");
            w.Line($"public void Compute({Ins(AV)}{sep}{Grads(AV)}, {AV} lossOut, global::LossDsl.LossShape shape) =>");
            w.Line($"    this.Compute({InArgs}{sep}{GradArgs}, lossOut, default, shape);");
            w.Line();

            w.Doc("summary", "Computes the loss into <paramref name=\"lossOut\"/> and each plane's loss into <paramref name=\"planeLosses\"/> on the device and, where a gradient view is not empty, the gradient.");
            DocInputs(w);
            DocGrads(w, string.Empty);
            w.Line("/// <param name=\"lossOut\">Receives the loss (one element).</param>");
            w.Line("/// <param name=\"planeLosses\">Receives the N·C per-plane losses, or an empty view.</param>");
            w.Line("/// <param name=\"shape\">The NCHW shape.</param>");
            w.Open($"public void Compute({Ins(AV)}{sep}{Grads(AV)}, {AV} lossOut, {AV} planeLosses, global::LossDsl.LossShape shape)");
            w.Line($"{Bridge}.ThrowIfDisposed(this._disposed, this);");
            w.Line($"{Bridge}.CheckView(this._accelerator, lossOut, 1, \"lossOut\");");
            w.Line("shape.Validate(\"shape\");");
            w.Line($"{Bridge}.CheckView(this._accelerator, planeLosses, shape.Planes, \"planeLosses\", allowEmpty: true);");
            w.Line($"this.Run({InArgs}{sep}{GradArgs}, lossOut, planeLosses, default, shape);");
            w.Close();
            w.Line();

            if (_logits.Count > 0)
            {
                w.Doc("summary", "Writes the gradient of Σ_p planeSeeds[p] · loss_p (the backward of the per-plane losses for an upstream gradient per plane).");
                DocInputs(w);
                w.Line("/// <param name=\"planeSeeds\">The upstream gradient of each plane's loss (N·C values).</param>");
                DocGrads(w, "the gradient:");
                w.Line("/// <param name=\"shape\">The NCHW shape.</param>");
                w.Open($"public void Backward({Ins(AV)}, {AV} planeSeeds, {Grads(AV)}, global::LossDsl.LossShape shape)");
                w.Line($"{Bridge}.ThrowIfDisposed(this._disposed, this);");
                w.Line("shape.Validate(\"shape\");");
                w.Line($"{Bridge}.CheckView(this._accelerator, planeSeeds, shape.Planes, \"planeSeeds\");");
                w.Line($"this.Run({InArgs}, {GradArgs}, {Bridge}.Ensure(this._accelerator, ref this._lossBuffer, 1), default, planeSeeds, shape);");
                w.Close();
                w.Line();
            }
        }

        private void EmitRun(CodeWriter w)
        {
            string sep = _logits.Count > 0 ? ", " : string.Empty;
            w.Open($"private void Run({RunIns}{sep}{RunGrads}, {AV} lossOut, {AV} planeLosses, {AV} planeSeeds, global::LossDsl.LossShape shape)");
            w.Line($"{Bridge}.ThrowIfDisposed(_disposed, this);");
            w.Line("shape.Validate(nameof(shape));");
            for (int i = 0; i < _inputs.Count; i++)
            {
                w.Line($"{Bridge}.CheckView(_accelerator, {In(i)}, shape.Length, \"{_inputs[i].Name}\");");
            }

            foreach (int i in _logits)
            {
                w.Line($"bool has{i} = {Bridge}.CheckView(_accelerator, {Grad(i)}, shape.Length, \"{GradName(i)}\", allowEmpty: true);");
            }

            w.Line("int planes = shape.Planes, h = shape.H, w = shape.W, hw = shape.PlaneSize, length = shape.Length;");
            w.Line("var stream = _accelerator.DefaultStream;");
            if (_s.Stencils.Count > 0)
            {
                w.Line($"var stencils = {Bridge}.Ensure(_accelerator, ref _stencilBuffer, {CodeWriter.Int(_s.Stencils.Count)}L * length);");
                w.Line($"var work = {Bridge}.Ensure(_accelerator, ref _workBuffer, 2L * length);");
            }

            w.Line($"var sums = {Bridge}.Ensure(_accelerator, ref _sumBuffer, (long)planes * Accumulators);");
            w.Line($"var planeValues = {Bridge}.Ensure(_accelerator, ref _planeBuffer, (long)planes * PlaneSlots);");
            w.Line($"var batch = {Bridge}.Ensure(_accelerator, ref _batchBuffer, BatchSlots);");
            w.Line("bool hasSeeds = planeSeeds.Length > 0;");
            w.Line($"{AV} dummy = _dummy.View;");
            w.Line("if (!hasSeeds) planeSeeds = dummy;");
            w.Line($"if (planeLosses.Length == 0) planeLosses = {Bridge}.Ensure(_accelerator, ref _planeLossBuffer, planes);");
            string stencilArg = _s.Stencils.Count > 0 ? ", stencils" : string.Empty;

            if (_s.Stencils.Count > 0)
            {
                w.Line();
                w.Line("// Stencil pre-pass (target-only): source into scratch, row pass, column pass.");
                foreach (var st in _s.Stencils)
                {
                    int slot = _stencilSlot[st.Node];
                    w.Line($"// v{st.Node} = {MathText.Expr(_s, st.Node)}");
                    string src;
                    if (IsInput(st.Source))
                    {
                        src = In((int)_g[st.Source].Value);
                    }
                    else
                    {
                        w.Line($"{_sources[st.Node].Field}(stream, length, {RunInArgs}{stencilArg}, work.SubView(0, length), hw, length);");
                        src = "work.SubView(0, length)";
                    }

                    string dst = $"stencils.SubView({CodeWriter.Int(slot)}L * length, length)";
                    if (st.Kind == Op.AvgPool)
                    {
                        w.Line($"_boxRows(stream, planes * h, {src}, work.SubView(length, length), w, {CodeWriter.Int(st.Kernel)});");
                        w.Line($"_boxColumns(stream, planes * w, work.SubView(length, length), {dst}, h, w, {CodeWriter.Int(st.Kernel)});");
                    }
                    else
                    {
                        string min = st.Kind == Op.MinPool ? "1" : "0";
                        w.Line($"_extremumRows(stream, length, {src}, work.SubView(length, length), w, {CodeWriter.Int(st.Kernel)}, {min});");
                        w.Line($"_extremumColumns(stream, length, work.SubView(length, length), {dst}, h, w, {CodeWriter.Int(st.Kernel)}, {min});");
                    }
                }
            }

            w.Line();
            w.Line("// Forward sweep: every reduction at once, per-plane sums by group reduction and atomic add.");
            w.Line("global::ILGPU.Runtime.ArrayViewExtensions.MemSetToZero(sums, stream);");
            w.Line($"int groupsPerPlane = {Bridge}.GroupsPerPlane(_accelerator, planes, hw, _groupSize);");
            w.Line($"_forward(stream, new global::ILGPU.KernelConfig(planes * groupsPerPlane, _groupSize), {RunInArgs}{stencilArg}, sums, hw, length, groupsPerPlane);");
            w.Line();
            w.Line("// Epilogues: batch values, per-plane loss and adjoints, the loss and the batch adjoints.");
            if (_batchForward is not null)
            {
                w.Line("_batchForward(stream, 1, sums, batch, planes, hw, length);");
            }

            w.Line("_plane(stream, planes, sums, batch, planeValues, planeSeeds, hasSeeds ? 1 : 0, planeLosses, planes, hw, length);");
            w.Line("_finish(stream, 1, planeValues, batch, lossOut, planes, hw, length);");
            if (_backward is not null)
            {
                w.Line();
                w.Line("// Backward sweep: the gradient, recomputing per-pixel values.");
                w.Open($"if ({string.Join(" || ", _logits.Select(i => $"has{i}"))})");
                string grads = string.Join(", ", _logits.Select(i => $"has{i} ? {Grad(i)} : dummy"));
                string mask = string.Join(" | ", _logits.Select((i, bit) => $"(has{i} ? {1 << bit} : 0)"));
                w.Line($"_backward(stream, length, {RunInArgs}{stencilArg}, planeValues, batch, {grads}, {mask}, hw, length);");
                w.Close();
            }

            w.Close();
            w.Line();
        }

        private void EmitDispose(CodeWriter w)
        {
            w.Doc("summary", "Frees the scratch buffers; the accelerator and the kernels' compiled code stay (ILGPU caches them per accelerator).");
            w.Open("public void Dispose()");
            w.Line("if (_disposed) return;");
            w.Line("_disposed = true;");
            w.Line("_dummy.Dispose();");
            var buffers = new List<string>();
            if (_s.Stencils.Count > 0)
            {
                buffers.Add("_stencilBuffer");
                buffers.Add("_workBuffer");
            }

            buffers.AddRange(new[] { "_sumBuffer", "_planeBuffer", "_batchBuffer", "_planeLossBuffer", "_lossBuffer" });
            foreach (var b in buffers)
            {
                w.Line($"{b}?.Dispose();");
                w.Line($"{b} = null;");
            }

            w.Close();
        }

        // -------------------------------------------------------------- kernels

        /// <summary>Opens a kernel method, separated from what precedes it by a blank line (so the class ends without one).</summary>
        private void KernelHeader(CodeWriter w, Kernel k, string summary)
        {
            w.Line();
            w.Doc("summary", summary);
            w.Open($"private static void {k.Method}({k.Signature})");
        }

        private void ShapeScalars(CodeWriter w)
        {
            foreach (int x in _s.ShapeScalars)
            {
                w.Line($"double sv{x} = {DoubleExpr(x, ShapeName)}; // {MathText.Expr(_s, x)}");
            }
        }

        /// <summary>Declares the non-field values a per-pixel program reads (as float), from the plane and batch buffers or shape scalars.</summary>
        private void Hoist(CodeWriter w, IEnumerable<int> program, IEnumerable<int> outputs)
        {
            var hoisted = program.SelectMany(id => _g[id].Args).Concat(outputs)
                .Where(id => _g[id].Rank != Rank.Field && _g[id].Op != Op.Const).Distinct().OrderBy(x => x).ToList();
            if (hoisted.Any(id => _g[id].Rank == Rank.Scalar))
            {
                ShapeScalars(w);
            }

            foreach (int id in hoisted)
            {
                string value = _g[id].Rank switch
                {
                    Rank.Plane when _planeSlot.TryGetValue(id, out int ps) => $"planeValues[(p * PlaneSlots) + {CodeWriter.Int(ps)}]",
                    Rank.Batch when _batchSlot.TryGetValue(id, out int bs) => $"batch[{CodeWriter.Int(bs)}]",
                    Rank.Scalar => ShapeName(id),
                    _ => $"double.NaN /* v{id} is not available here */",
                };
                w.Line($"float s{id} = (float){value}; // {MathText.Expr(_s, id)}");
            }
        }

        private void EmitStencilSources(CodeWriter w)
        {
            foreach (var st in _s.Stencils.Where(st => !IsInput(st.Source)))
            {
                var k = _sources[st.Node];
                KernelHeader(w, k, $"Stencil source of v{st.Node} = {System.Security.SecurityElement.Escape(MathText.Expr(_s, st.Node))}, a thread per pixel.");
                w.Line("int i = index;");
                Hoist(w, st.SourceProgram, new[] { st.Source });
                foreach (int id in st.SourceProgram)
                {
                    w.Line($"float v{id} = {FloatExpr(id)}; // {MathText.Expr(_s, id)}");
                }

                w.Line($"dst[i] = {PixelName(st.Source)};");
                w.Close();
            }
        }

        private void EmitForward(CodeWriter w)
        {
            KernelHeader(w, _forward, "Forward sweep (explicitly grouped): the groups of plane p sweep its pixels with a grid stride, each thread sums in double,\nthen a group reduction and one atomic add per group and accumulator.");
            w.Line("int p = global::ILGPU.Grid.IdxX / groupsPerPlane;");
            w.Line("int first = ((global::ILGPU.Grid.IdxX - (p * groupsPerPlane)) * global::ILGPU.Group.DimX) + global::ILGPU.Group.IdxX;");
            w.Line("int stride = groupsPerPlane * global::ILGPU.Group.DimX;");
            w.Line("int start = p * hw;");
            var outputs = _s.Accumulators.Select(a => _g[a].Args[0]).ToList();
            Hoist(w, _s.ForwardProgram, outputs);
            for (int a = 0; a < _s.Accumulators.Count; a++)
            {
                w.Line($"double acc{a} = 0; // {MathText.Expr(_s, _s.Accumulators[a])}");
            }

            w.Open("for (int j = first; j < hw; j += stride)");
            w.Line("int i = start + j;");
            foreach (int id in _s.ForwardProgram)
            {
                w.Line($"float v{id} = {FloatExpr(id)}; // {MathText.Expr(_s, id)}");
            }

            for (int a = 0; a < _s.Accumulators.Count; a++)
            {
                w.Line($"acc{a} += {PixelName(outputs[a])};");
            }

            w.Close();
            w.Line();
            for (int a = 0; a < _s.Accumulators.Count; a++)
            {
                w.Line($"double r{a} = global::ILGPU.Algorithms.GroupExtensions.Reduce<double, global::ILGPU.Algorithms.ScanReduceOperations.AddDouble>(acc{a});");
                w.Line($"if (global::ILGPU.Group.IsFirstThread) global::ILGPU.Atomic.Add(ref sums[(p * Accumulators) + {CodeWriter.Int(a)}], r{a});");
            }

            w.Close();
        }

        private void LoadBatch(CodeWriter w, IEnumerable<int> nodes, ISet<int> defined)
        {
            var reads = nodes.SelectMany(id => _g[id].Args.Append(id)).Where(id => _g[id].Rank == Rank.Batch && !defined.Contains(id)).Distinct().OrderBy(x => x).ToList();
            foreach (int id in reads)
            {
                w.Line($"double bv{id} = batch[{CodeWriter.Int(_batchSlot.TryGetValue(id, out int s) ? s : 0)}]; // {MathText.Expr(_s, id)}");
                defined.Add(id);
            }
        }

        private void EmitEpilogues(CodeWriter w)
        {
            if (_batchForward is not null)
            {
                KernelHeader(w, _batchForward, "Batch epilogue (a single thread): the batch sums over planes in a fixed order and the batch values.");
                ShapeScalars(w);
                foreach (var (id, a) in BatchAccumulators)
                {
                    w.Line($"double bv{id} = 0; // {MathText.Expr(_s, id)}");
                    w.Line($"for (int p = 0; p < planes; p++) bv{id} += sums[(p * Accumulators) + {CodeWriter.Int(a)}];");
                }

                foreach (int b in _s.BatchForward)
                {
                    w.Line($"double bv{b} = {DoubleExpr(b, EpilogueName)}; // {MathText.Expr(_s, b)}");
                }

                foreach (int b in BatchAccumulators.Select(x => x.Id).Concat(_s.BatchForward))
                {
                    w.Line($"batch[{CodeWriter.Int(_batchSlot[b])}] = bv{b};");
                }

                w.Close();
            }

            string defaultSeed = _s.Spec.Reduction == ReductionKind.Mean ? "1.0 / planes" : "1.0";
            KernelHeader(w, _plane, "Plane epilogue (a thread per plane): the plane loss, its seed and the adjoints the backward sweep reads.");
            w.Line("int p = index;");
            ShapeScalars(w);
            w.Line($"double seed = hasSeeds != 0 ? planeSeeds[p] : {defaultSeed};");
            foreach (var (id, a) in _s.Accumulators.Select((id, a) => (id, a)).Where(x => _g[x.id].Op == Op.Sum))
            {
                w.Line($"double v{id} = sums[(p * Accumulators) + {CodeWriter.Int(a)}]; // {MathText.Expr(_s, id)}");
            }

            var planeDefined = new HashSet<int>();
            var planeNodes = _s.PlaneStatements.ToList();
            LoadBatch(w, planeNodes.Append(_s.PlaneLoss).Concat(_s.PlaneSums.Select(ps => _g[ps].Args[0])), planeDefined);
            foreach (int id in planeNodes)
            {
                w.Line($"double v{id} = {DoubleExpr(id, EpilogueName)}; // {MathText.Expr(_s, id)}");
            }

            w.Line($"double loss = {EpilogueName(_s.PlaneLoss)};");
            w.Line("planeValues[p * PlaneSlots] = loss;");
            w.Line("planeLosses[p] = (float)loss;");
            foreach (var kv in _planeSlot)
            {
                w.Line($"planeValues[(p * PlaneSlots) + {CodeWriter.Int(kv.Value)}] = {EpilogueName(kv.Key)};");
            }

            foreach (var kv in _planeSumSlot)
            {
                w.Line($"planeValues[(p * PlaneSlots) + {CodeWriter.Int(kv.Value)}] = {EpilogueName(_g[kv.Key].Args[0])};");
            }

            w.Close();

            KernelHeader(w, _finish, "Final epilogue (a single thread): the loss and the sums over planes in a fixed order, then the batch adjoints.");
            ShapeScalars(w);
            w.Line("double total = 0;");
            foreach (int ps in _s.PlaneSums)
            {
                w.Line($"double bv{ps} = 0; // {MathText.Expr(_s, ps)}");
            }

            w.Open("for (int p = 0; p < planes; p++)");
            w.Line("total += planeValues[p * PlaneSlots];");
            foreach (var kv in _planeSumSlot)
            {
                w.Line($"bv{kv.Key} += planeValues[(p * PlaneSlots) + {CodeWriter.Int(kv.Value)}];");
            }

            w.Close();
            w.Line();
            var finishDefined = new HashSet<int>(_s.PlaneSums.Concat(_s.BatchAdjoint));
            LoadBatch(w, _s.BatchAdjoint, finishDefined);
            foreach (int b in _s.BatchAdjoint)
            {
                w.Line($"double bv{b} = {DoubleExpr(b, EpilogueName)}; // {MathText.Expr(_s, b)}");
            }

            foreach (int b in _s.PlaneSums.Concat(_s.BatchAdjoint))
            {
                w.Line($"batch[{CodeWriter.Int(_batchSlot[b])}] = bv{b};");
            }

            w.Line(_s.Spec.Reduction == ReductionKind.Mean ? "lossOut[0] = (float)(total / planes);" : "lossOut[0] = (float)total;");
            w.Close();
        }

        private void EmitBackward(CodeWriter w)
        {
            if (_backward is null)
            {
                return;
            }

            KernelHeader(w, _backward, "Backward sweep (a thread per pixel): recomputes the per-pixel values and writes each gradient whose bit is set in <paramref name=\"gradMask\"/>.");
            w.Line("int i = index;");
            w.Line("int p = i / hw;");
            Hoist(w, _s.BackwardProgram, _s.Gradients.Select(g => g.Node));
            foreach (int id in _s.BackwardProgram)
            {
                w.Line($"float v{id} = {FloatExpr(id)}; // {MathText.Expr(_s, id)}");
            }

            foreach (var g in _s.Gradients)
            {
                int bit = _logits.IndexOf(g.Input);
                w.Line($"if ((gradMask & {1 << bit}) != 0) {Grad(g.Input)}[i] = {PixelName(g.Node)};");
            }

            w.Close();
        }

        // -------------------------------------------------------------- names and expressions

        private string ShapeName(int id) => _g[id].Op switch
        {
            Op.PlaneSize => "(double)hw",
            Op.BatchSize => "(double)length",
            Op.Const => CodeWriter.Num(_g[id].Value),
            _ => $"sv{id}",
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
                Op.Const => CodeWriter.Num(n.Value) + "f",
                _ when n.Rank == Rank.Field => $"v{id}",
                _ => $"s{id}",
            };
        }

        private string DoubleExpr(int id, System.Func<int, string> name) => Expr(id, name, "double");

        private string FloatExpr(int id) => Expr(id, PixelName, "float");

        private string Expr(int id, System.Func<int, string> name, string t)
        {
            var n = _g[id];
            return n.Op switch
            {
                Op.Input => $"{In((int)n.Value)}[i]",
                Op.AvgPool or Op.MaxPool or Op.MinPool => _stencilSlot[id] == 0 ? "stencils[i]" : $"stencils[({CodeWriter.Int(_stencilSlot[id])} * length) + i]",
                Op.PlaneSize or Op.BatchSize => ShapeName(id),
                _ => ScalarSyntax.Pointwise(n, name, t, DM, DM) ?? $"/* unsupported {n.Op} */ default",
            };
        }
    }
}
