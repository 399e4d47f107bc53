using System.Collections.Generic;
using System.Linq;
using LossDsl.Generators.Kernels;
using LossDsl.Generators.Model;

namespace LossDsl.Generators.Emit;

/// <summary>
/// Emits <c>L.Ilgpu</c>: the kernel program printed as ILGPU kernels plus a runner class that loads them once per
/// accelerator and keeps its scratch buffers between calls. Each kernel of the program becomes one launch: pixel kernels
/// that accumulate are explicitly grouped (each group sweeps a strided share of one plane, partial sums in double, a group
/// reduction from ILGPU.Algorithms and one <c>Atomic.Add</c> per group and accumulator); other pixel kernels run a thread per
/// pixel, plane kernels a thread per plane, once kernels a single thread; filter kernels launch the shared separable
/// kernels of <c>LossDsl.Ilgpu.IlgpuStencils</c> (a box filter's row pass as a group scan over tiles, its column pass as
/// running sums over segments of rows: coalesced and O(1) per pixel). The doc comment lists every launch with its
/// geometry and global-memory traffic. Per-pixel values are <c>float</c>, everything per plane or per batch
/// <c>double</c>; math goes through <c>LossDsl.Ilgpu.DeviceMath</c> (over XMath) so the kernels compile for PTX.
/// </summary>
internal static class IlgpuEmitter
{
    private const string AV = "global::ILGPU.ArrayView<float>";
    private const string AVD = "global::ILGPU.ArrayView<double>";
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
    public static string? Emit(KernelProgram s)
    {
        var k = new KernelWriter(s);
        return k.MaxParameters <= MaxLoaderArity ? Shell.Write(s.Spec, k.Emit) : null;
    }

    /// <summary>The largest number of parameters (after the index) of any kernel the ILGPU backend of <paramref name="s"/> has.</summary>
    public static int ParameterCount(KernelProgram s) => new KernelWriter(s).MaxParameters;

    /// <summary>One device kernel: the program's kernel, whether it is explicitly grouped, and its parameters after the index.</summary>
    private sealed record DeviceKernel(Kernel Source, bool Grouped, List<(string Type, string Name)> Params)
    {
        public string Name => Source.Name;

        public string DelegateType => Grouped
            ? $"global::System.Action<global::ILGPU.Runtime.AcceleratorStream, global::ILGPU.KernelConfig, {string.Join(", ", Params.Select(p => p.Type))}>"
            : $"global::System.Action<global::ILGPU.Runtime.AcceleratorStream, {Idx}, {string.Join(", ", Params.Select(p => p.Type))}>";

        public string Load => Grouped
            ? $"global::ILGPU.Runtime.KernelLoaders.LoadKernel<{string.Join(", ", Params.Select(p => p.Type))}>(accelerator, {Name})"
            : $"global::ILGPU.Runtime.KernelLoaders.LoadAutoGroupedKernel<{Idx}, {string.Join(", ", Params.Select(p => p.Type))}>(accelerator, {Name})";

        public string Field => "_" + char.ToLowerInvariant(Name[0]) + Name.Substring(1);

        public string Signature => (Grouped ? string.Empty : $"{Idx} index, ") + string.Join(", ", Params.Select(p => $"{p.Type} {p.Name}"));

        public bool Has(string name) => Params.Any(p => p.Name == name);
    }

    private sealed class KernelWriter
    {
        private readonly KernelProgram _s;
        private readonly List<InputSpec> _inputs;
        private readonly List<int> _logits;
        private readonly List<DeviceKernel> _kernels = new();
        private readonly Syntax _float = Syntax.Device("float");
        private readonly Syntax _double = Syntax.Device("double");
        private readonly bool _hasBox;
        private readonly bool _hasExtremum;
        private HashSet<int> _setupIds = new();

        public KernelWriter(KernelProgram s)
        {
            _s = s;
            _inputs = s.Spec.Inputs.ToList();
            _logits = s.LogitsInputs.ToList();
            var filters = s.Kernels.SelectMany(k => k.Body.OfType<FilterStatement>()).ToList();
            _hasBox = filters.Any(f => f.Kind == Op.AvgPool);
            _hasExtremum = filters.Any(f => f.Kind != Op.AvgPool);

            // Kernels and Run call the inputs in0, in1, … and their gradients grad0, …: only the public entry points have
            // parameters named after the inputs (an input may be called like any kernel parameter or local: w, h, batch, …).
            foreach (var k in s.Kernels.Where(k => k.Domain != Domain.Filter))
            {
                _kernels.Add(new DeviceKernel(k, k.Domain == Domain.Pixels && k.Accumulates, Parameters(k)));
            }

            MaxParameters = _kernels.Count == 0 ? 0 : _kernels.Max(k => k.Params.Count);
        }

        public int MaxParameters { get; }

        private int BatchSlots => System.Math.Max(1, _s.BatchSlots.Count);

        private string GradName(int input) => EntryPointNames.Grad(_inputs[input].Name);

        /// <summary>The parameters a kernel needs, from what it reads and writes (in a fixed order).</summary>
        private List<(string Type, string Name)> Parameters(Kernel k)
        {
            var reads = k.Reads.ToList();
            var body = k.Body;
            var ps = new List<(string, string)>();
            foreach (int i in reads.Where(o => o.Kind == OperandKind.Input).Select(o => o.Index).Distinct().OrderBy(x => x))
            {
                ps.Add((AV, In(i)));
            }

            bool fields = reads.Any(o => o.Kind == OperandKind.Field) || body.Any(x => x is StoreFieldStatement);
            bool planeTable = reads.Any(o => o.Kind == OperandKind.PlaneSlot) || body.Any(x => x is AccumulateStatement or StorePlaneStatement or SumPlanesStatement or SumOverImagesStatement);
            bool shapePlanes = reads.Any(o => o.Kind == OperandKind.Shape && o.Index == (int)ShapeQuantity.Planes);
            if (fields)
            {
                ps.Add((AV, "fields"));
            }

            if (planeTable)
            {
                ps.Add((AVD, "planeTable"));
            }

            if (reads.Any(o => o.Kind == OperandKind.BatchSlot) || body.Any(x => x is StoreBatchStatement))
            {
                ps.Add((AVD, "batch"));
            }

            if (body.Any(x => x is SeedStatement))
            {
                ps.Add((AV, "planeSeeds"));
                ps.Add(("int", "hasSeeds"));
            }

            if (body.Any(x => x is StorePlaneLossStatement))
            {
                ps.Add((AV, "planeLosses"));
            }

            if (body.Any(x => x is ResultStatement))
            {
                ps.Add((AV, "lossOut"));
            }

            var grads = body.OfType<StoreGradientStatement>().Select(g => g.Input).Distinct().OrderBy(x => x).ToList();
            foreach (int i in grads)
            {
                ps.Add((AV, Grad(i)));
            }

            if (grads.Count > 0)
            {
                ps.Add(("int", "gradMask"));
            }

            if (k.Domain == Domain.Pixels || reads.Any(o => o.Kind == OperandKind.Shape && o.Index == (int)ShapeQuantity.PlaneSize))
            {
                ps.Add(("int", "hw"));
            }

            if (fields || reads.Any(o => o.Kind == OperandKind.Shape && o.Index == (int)ShapeQuantity.Length))
            {
                ps.Add(("int", "length"));
            }

            if (planeTable || shapePlanes)
            {
                ps.Add(("int", "planes"));
            }

            if (k.ChannelLoops.Any() || body.Any(x => x is SumOverImagesStatement) || reads.Any(o => o.Kind == OperandKind.Shape && o.Index is (int)ShapeQuantity.Channels or (int)ShapeQuantity.ChannelIndex))
            {
                ps.Add(("int", "channels"));
            }

            if (k.Domain == Domain.Pixels && k.Accumulates)
            {
                ps.Add(("int", "groupsPerPlane"));
            }

            return ps;
        }

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
            foreach (var k in _kernels)
            {
                EmitKernel(w, k);
            }

            w.Close();
        }

        private string Doc()
        {
            int launches = _kernels.Count + _s.Kernels.SelectMany(k => k.Body.OfType<FilterStatement>()).Count() * 2;
            var lines = new List<string>
            {
                "ILGPU backend (generated from the schedule below): runs on CUDA, OpenCL and the CPU accelerator. Kernels are loaded",
                "once per instance; scratch buffers are kept and grown as needed. An instance is not thread-safe: use one per stream.",
                $"One forward + backward call makes {CodeWriter.Int(launches)} kernel launches (one per kernel below, two per separable filter) plus",
                "the zeroing of the accumulated plane-table slots (listed under launches). Every per-pixel pass is coalesced (neighbouring",
                "threads touch neighbouring addresses). Sums over planes run in a fixed order; the per-plane sums depend on the",
                "order of the atomic adds, so results may differ between runs in the last bits.",
                "<code>",
            };
            lines.AddRange(MathText.Dump(_s.Schedule).TrimEnd('\n').Split('\n').Select(l => Xml.Escape(l)));
            lines.AddRange(KernelText.Describe(_s).TrimEnd('\n').Split('\n').Select(l => Xml.Escape(l)));
            lines.AddRange(Launches().Select(l => Xml.Escape(l)));
            lines.Add("</code>");
            return string.Join("\n", lines);
        }

        /// <summary>
        /// The launches of one forward + backward call in order, with their geometry and their global-memory traffic in
        /// passes over N·C·H·W float elements (a pass read once from memory; neighbouring re-reads hit the caches).
        /// </summary>
        private List<string> Launches()
        {
            var lines = new List<string> { "launches of one forward + backward call (L = N·C·H·W, G = threads per group, at most 256):" };
            int reads = 0, writes = 0, launches = 0;
            void Add(string text, int r, int wr)
            {
                launches++;
                reads += r;
                writes += wr;
                lines.Add($"  {CodeWriter.Int(launches)}. {text}");
            }

            foreach (var k in _s.Kernels)
            {
                if (k.Domain == Domain.Filter)
                {
                    foreach (var f in k.Body.OfType<FilterStatement>())
                    {
                        string src = f.Source.Kind == OperandKind.Input ? _inputs[f.Source.Index].Name : "f" + CodeWriter.Int(f.Source.Index);
                        string dst = "f" + CodeWriter.Int(f.Destination);
                        string kk = CodeWriter.Int(f.Kernel);
                        if (f.Kind == Op.AvgPool)
                        {
                            Add($"BoxRows {src} -> work: N·C·H·⌈W/G⌉ groups of G, a tile of G columns each; an inclusive group scan of (entering − leaving pixel) in double, started by a group reduction over the {CodeWriter.Int(f.Kernel - 1)} pixels before the tile; 1 read + 1 write pass", 1, 1);
                            Add($"BoxColumns work -> {dst}: N·C·⌈H/S⌉·W threads, S = {CodeWriter.Int(System.Math.Max(32, f.Kernel))} rows each (IlgpuStencils.ColumnSegment), a running sum down the column; 1 read + 1 write pass", 1, 1);
                        }
                        else
                        {
                            string which = f.Kind == Op.MinPool ? "minimum" : "maximum";
                            Add($"ExtremumRows {src} -> work: L threads, the {which} of {kk} neighbours in the row; 1 read + 1 write pass", 1, 1);
                            Add($"ExtremumColumns work -> {dst}: L threads, the {which} of {kk} neighbours in the column; 1 read + 1 write pass", 1, 1);
                        }
                    }

                    continue;
                }

                int r = k.Reads.Where(o => o.Kind is OperandKind.Input or OperandKind.Field).Distinct().Count();
                int wr = k.Body.Count(x => x is StoreFieldStatement or StoreGradientStatement);
                string io = r + wr == 0 ? "no per-pixel traffic" : $"{CodeWriter.Int(r)} read + {CodeWriter.Int(wr)} write passes";
                switch (k.Domain)
                {
                    case Domain.Pixels when k.Accumulates:
                        int sums = k.Body.OfType<AccumulateStatement>().Count();
                        Add($"zero {CodeWriter.Int(sums)} plane-table slots: {CodeWriter.Int(sums)}·N·C doubles", 0, 0);
                        Add($"{k.Name}: N·C·B groups of G (B groups per plane: enough to fill the device about twice, at most ⌈H·W/G⌉), a grid-stride sweep; per group {CodeWriter.Int(sums)} group reductions and {CodeWriter.Int(sums)} atomic adds; {io}", r, wr);
                        break;
                    case Domain.Pixels:
                        Add($"{k.Name}: L threads, one per pixel; {io}", r, wr);
                        break;
                    case Domain.Planes:
                        Add($"{k.Name}: N·C threads, one per plane; reads and writes the plane table", 0, 0);
                        break;
                    default:
                        Add($"{k.Name}: 1 thread; sums over the planes in a fixed order", 0, 0);
                        break;
                }
            }

            lines.Add($"global-memory traffic (the per-pixel traffic above plus the work buffer of each separable filter): {CodeWriter.Int(reads)} read + {CodeWriter.Int(writes)} write passes = {CodeWriter.Int(4 * (reads + writes))}·L bytes (8×1×352×352: {(4.0 * (reads + writes) * 8 * 352 * 352 / 1e6).ToString("F1", System.Globalization.CultureInfo.InvariantCulture)} MB)");
            return lines;
        }

        // -------------------------------------------------------------- host side

        private void EmitFields(CodeWriter w)
        {
            w.Line($"private const int PlaneSlots = {CodeWriter.Int(_s.PlaneSlots.Count)}; // slot-major: planeTable[(slot * planes) + p]; {KernelText.Slots(_s, _s.PlaneSlots)}");
            w.Line($"private const int BatchSlots = {CodeWriter.Int(BatchSlots)};{(_s.BatchSlots.Count > 0 ? " // " + KernelText.Slots(_s, _s.BatchSlots) : string.Empty)}");
            w.Line();
            w.Line($"private readonly {Acc} _accelerator;");
            w.Line("private readonly int _groupSize;");
            if (_hasBox)
            {
                w.Line($"private readonly global::System.Action<global::ILGPU.Runtime.AcceleratorStream, global::ILGPU.KernelConfig, {AV}, {AV}, int, int, int> _boxRows;");
                w.Line($"private readonly global::System.Action<global::ILGPU.Runtime.AcceleratorStream, {Idx}, {AV}, {AV}, int, int, int, int> _boxColumns;");
                w.Line($"private readonly global::System.Action<global::ILGPU.Runtime.AcceleratorStream, {Idx}, {AV}, {AV}, int, int, int> _boxDepth;");
            }

            if (_hasExtremum)
            {
                w.Line($"private readonly global::System.Action<global::ILGPU.Runtime.AcceleratorStream, {Idx}, {AV}, {AV}, int, int, int> _extremumRows;");
                w.Line($"private readonly global::System.Action<global::ILGPU.Runtime.AcceleratorStream, {Idx}, {AV}, {AV}, int, int, int, int> _extremumColumns;");
                w.Line($"private readonly global::System.Action<global::ILGPU.Runtime.AcceleratorStream, {Idx}, {AV}, {AV}, int, int, int, int> _extremumDepth;");
            }

            foreach (var k in _kernels)
            {
                w.Line($"private readonly {k.DelegateType} {k.Field};");
            }

            w.Line($"private readonly {FloatBuffer} _dummy;");
            if (_s.Fields.Count > 0)
            {
                w.Line($"private {FloatBuffer}? _fieldBuffer; // {string.Join(", ", _s.Fields.Select(f => $"f{CodeWriter.Int(f.Index)} = v{CodeWriter.Int(f.Node)}"))}");
            }

            if (_hasBox || _hasExtremum)
            {
                w.Line($"private {FloatBuffer}? _workBuffer; // the row pass of a separable filter");
            }

            w.Line($"private {DoubleBuffer}? _planeBuffer;");
            w.Line($"private {DoubleBuffer}? _batchBuffer;");
            w.Line($"private {FloatBuffer}? _planeLossBuffer;");
            w.Line($"private {FloatBuffer}? _lossBuffer;");
            w.Line("private bool _disposed;");
            w.Line();
            EmitKernelList(w);
        }

        /// <summary>
        /// The kernels this runner loads, for tools that compile them ahead of time without a device (the PTX test): each
        /// method with whether it is explicitly grouped, the shared stencil kernels included.
        /// </summary>
        private void EmitKernelList(CodeWriter w)
        {
            const string Flags = "global::System.Reflection.BindingFlags.Static | global::System.Reflection.BindingFlags.NonPublic";
            var entries = new List<string>();
            foreach (var (used, name, grouped) in new[] { (_hasBox, "BoxRows", true), (_hasBox, "BoxColumns", false), (_hasBox, "BoxDepth", false), (_hasExtremum, "ExtremumRows", false), (_hasExtremum, "ExtremumColumns", false), (_hasExtremum, "ExtremumDepth", false) })
            {
                if (used)
                {
                    entries.Add($"(typeof({Stencils}).GetMethod(\"{name}\")!, {(grouped ? "true" : "false")})");
                }
            }

            foreach (var k in _kernels)
            {
                entries.Add($"(typeof(Ilgpu).GetMethod(\"{k.Name}\", {Flags})!, {(k.Grouped ? "true" : "false")})");
            }

            w.Doc("summary", "Every kernel this runner loads, with whether it is explicitly grouped (launched with a <c>KernelConfig</c>) or\nimplicitly grouped (an index first): for tools that compile them ahead of time, such as a PTX build without a device.");
            w.Line("public static global::System.Collections.Generic.IReadOnlyList<(global::System.Reflection.MethodInfo Method, bool ExplicitlyGrouped)> KernelMethods { get; } =");
            w.Line("    new (global::System.Reflection.MethodInfo, bool)[]");
            w.Line("    {");
            foreach (var e in entries)
            {
                w.Line("        " + e + ",");
            }

            w.Line("    };");
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
                w.Line($"_boxRows = global::ILGPU.Runtime.KernelLoaders.LoadKernel<{AV}, {AV}, int, int, int>(accelerator, {Stencils}.BoxRows);");
                w.Line($"_boxColumns = global::ILGPU.Runtime.KernelLoaders.LoadAutoGroupedKernel<{Idx}, {AV}, {AV}, int, int, int, int>(accelerator, {Stencils}.BoxColumns);");
                w.Line($"_boxDepth = global::ILGPU.Runtime.KernelLoaders.LoadAutoGroupedKernel<{Idx}, {AV}, {AV}, int, int, int>(accelerator, {Stencils}.BoxDepth);");
            }

            if (_hasExtremum)
            {
                w.Line($"_extremumRows = global::ILGPU.Runtime.KernelLoaders.LoadAutoGroupedKernel<{Idx}, {AV}, {AV}, int, int, int>(accelerator, {Stencils}.ExtremumRows);");
                w.Line($"_extremumColumns = global::ILGPU.Runtime.KernelLoaders.LoadAutoGroupedKernel<{Idx}, {AV}, {AV}, int, int, int, int>(accelerator, {Stencils}.ExtremumColumns);");
                w.Line($"_extremumDepth = global::ILGPU.Runtime.KernelLoaders.LoadAutoGroupedKernel<{Idx}, {AV}, {AV}, int, int, int, int>(accelerator, {Stencils}.ExtremumDepth);");
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

            w.Line("int planes = shape.Planes, h = shape.H, w = shape.W, hw = shape.PlaneSize, length = shape.Length" + (_kernels.Any(k => k.Params.Any(p => p.Name == "channels")) ? ", channels = shape.C;" : ";"));
            if (_hasBox || _hasExtremum)
            {
                w.Line("int d = shape.D, slices = planes * d; // a volume's planes are filtered as d slices of h × w each");
            }

            w.Line("var stream = _accelerator.DefaultStream;");
            if (_s.Fields.Count > 0)
            {
                w.Line($"var fields = {Bridge}.Ensure(_accelerator, ref _fieldBuffer, {CodeWriter.Int(_s.Fields.Count)}L * length);");
            }

            if (_hasBox || _hasExtremum)
            {
                w.Line($"var work = {Bridge}.Ensure(_accelerator, ref _workBuffer, length);");
            }

            w.Line($"var planeTable = {Bridge}.Ensure(_accelerator, ref _planeBuffer, (long)planes * PlaneSlots);");
            w.Line($"var batch = {Bridge}.Ensure(_accelerator, ref _batchBuffer, BatchSlots);");
            w.Line("bool hasSeeds = planeSeeds.Length > 0;");
            w.Line($"{AV} dummy = _dummy.View;");
            w.Line("if (!hasSeeds) planeSeeds = dummy;");
            w.Line($"if (planeLosses.Length == 0) planeLosses = {Bridge}.Ensure(_accelerator, ref _planeLossBuffer, planes);");

            bool inBackward = false;
            foreach (var k in _s.Kernels)
            {
                if (k.Role == KernelRole.Backward && !inBackward)
                {
                    w.Line();
                    w.Open($"if ({string.Join(" || ", _logits.Select(i => $"has{i}"))})");
                    inBackward = true;
                }

                if (!(inBackward && k == _s.Kernels.First(x => x.Role == KernelRole.Backward)))
                {
                    w.Line();
                }

                w.Line($"// {k.Name}: {k.Summary}");
                if (k.Domain == Domain.Filter)
                {
                    foreach (var f in k.Body.OfType<FilterStatement>())
                    {
                        string src = f.Source.Kind == OperandKind.Input ? In(f.Source.Index) : FieldView(f.Source.Index);
                        string dst = FieldView(f.Destination);
                        string kk = CodeWriter.Int(f.Kernel);
                        // A volume is filtered across its slices first (into the destination), then slice by slice.
                        string rows = $"(d > 1 ? {dst} : {src})";
                        if (f.Kind == Op.AvgPool)
                        {
                            w.Line($"if (d > 1) _boxDepth(stream, length, {src}, {dst}, d, h * w, {kk});");
                            w.Line($"_boxRows(stream, new global::ILGPU.KernelConfig(slices * h * {Stencils}.RowTiles(w, _groupSize), _groupSize), {rows}, work, w, {kk}, {Stencils}.RowTiles(w, _groupSize));");
                            w.Line($"_boxColumns(stream, {Stencils}.ColumnThreads(slices, h, w, {kk}), work, {dst}, h, w, {kk}, {Stencils}.ColumnSegment({kk}));");
                        }
                        else
                        {
                            string min = f.Kind == Op.MinPool ? "1" : "0";
                            w.Line($"if (d > 1) _extremumDepth(stream, length, {src}, {dst}, d, h * w, {kk}, {min});");
                            w.Line($"_extremumRows(stream, length, {rows}, work, w, {kk}, {min});");
                            w.Line($"_extremumColumns(stream, length, work, {dst}, h, w, {kk}, {min});");
                        }
                    }

                    continue;
                }

                var dk = _kernels.First(x => x.Source == k);
                string args = string.Join(", ", dk.Params.Select(p => HostArgument(p.Name)));
                switch (k.Domain)
                {
                    case Domain.Pixels when dk.Grouped:
                        foreach (var (first, count) in Runs(k.Body.OfType<AccumulateStatement>().Select(a => a.Slot)))
                        {
                            w.Line($"global::ILGPU.Runtime.ArrayViewExtensions.MemSetToZero(planeTable.SubView({CodeWriter.Int(first)}L * planes, {(count == 1 ? string.Empty : CodeWriter.Int(count) + "L * ")}planes), stream);");
                        }

                        w.Line($"int groupsPerPlane = {Bridge}.GroupsPerPlane(_accelerator, planes, hw, _groupSize);");
                        w.Line($"{dk.Field}(stream, new global::ILGPU.KernelConfig(planes * groupsPerPlane, _groupSize), {args});");
                        break;
                    case Domain.Pixels when k.PerImage:
                        w.Line($"{dk.Field}(stream, shape.N * hw, {args});");
                        break;
                    case Domain.Pixels:
                        w.Line($"{dk.Field}(stream, length, {args});");
                        break;
                    case Domain.Planes:
                        w.Line($"{dk.Field}(stream, planes, {args});");
                        break;
                    default:
                        w.Line($"{dk.Field}(stream, 1, {args});");
                        break;
                }
            }

            if (inBackward)
            {
                w.Close();
            }

            w.Close();
            w.Line();
        }

        /// <summary>Consecutive runs (first, count) of the sorted slots.</summary>
        private static IEnumerable<(int First, int Count)> Runs(IEnumerable<int> slots)
        {
            int first = -1, count = 0;
            foreach (int slot in slots.OrderBy(x => x))
            {
                if (count > 0 && slot == first + count)
                {
                    count++;
                    continue;
                }

                if (count > 0)
                {
                    yield return (first, count);
                }

                (first, count) = (slot, 1);
            }

            if (count > 0)
            {
                yield return (first, count);
            }
        }

        private static string FieldView(int buffer) => $"fields.SubView({CodeWriter.Int(buffer)}L * length, length)";

        private string HostArgument(string parameter)
        {
            if (parameter.StartsWith("grad", System.StringComparison.Ordinal) && parameter != "gradMask")
            {
                int i = int.Parse(parameter.Substring(4), System.Globalization.CultureInfo.InvariantCulture);
                return $"has{i} ? {Grad(i)} : dummy";
            }

            return parameter switch
            {
                "hasSeeds" => "hasSeeds ? 1 : 0",
                "gradMask" => string.Join(" | ", _logits.Select((i, bit) => $"(has{i} ? {1 << bit} : 0)")),
                _ => parameter,
            };
        }

        private void EmitDispose(CodeWriter w)
        {
            w.Doc("summary", "Frees the scratch buffers; the accelerator and the kernels' compiled code stay (ILGPU caches them per accelerator).");
            w.Open("public void Dispose()");
            w.Line("if (_disposed) return;");
            w.Line("_disposed = true;");
            w.Line("_dummy.Dispose();");
            var buffers = new List<string>();
            if (_s.Fields.Count > 0)
            {
                buffers.Add("_fieldBuffer");
            }

            if (_hasBox || _hasExtremum)
            {
                buffers.Add("_workBuffer");
            }

            buffers.AddRange(new[] { "_planeBuffer", "_batchBuffer", "_planeLossBuffer", "_lossBuffer" });
            foreach (var b in buffers)
            {
                w.Line($"{b}?.Dispose();");
                w.Line($"{b} = null;");
            }

            w.Close();
        }

        // -------------------------------------------------------------- kernels

        private void EmitKernel(CodeWriter w, DeviceKernel dk)
        {
            var k = dk.Source;
            string how = k.Domain switch
            {
                Domain.Pixels when dk.Grouped => "explicitly grouped: the groups of plane p sweep its pixels with a grid stride, each thread sums in double, then a group reduction and one atomic add per group and accumulator",
                Domain.Pixels => "a thread per pixel",
                Domain.Planes => "a thread per plane",
                _ => "a single thread",
            };
            w.Line();
            w.Doc("summary", Xml.Escape($"{char.ToUpperInvariant(k.Summary[0])}{k.Summary.Substring(1)} ({how})."));
            w.Open($"private static void {k.Name}({dk.Signature})");
            _setupIds = new HashSet<int>(k.Setup.Select(s => s.Id));
            switch (k.Domain)
            {
                case Domain.Pixels when dk.Grouped:
                    w.Line("int p = global::ILGPU.Grid.IdxX / groupsPerPlane;");
                    w.Line("int first = ((global::ILGPU.Grid.IdxX - (p * groupsPerPlane)) * global::ILGPU.Group.DimX) + global::ILGPU.Group.IdxX;");
                    w.Line("int stride = groupsPerPlane * global::ILGPU.Group.DimX;");
                    w.Line("int start = p * hw;");
                    Prologue(w, k);
                    var accs = k.Body.OfType<AccumulateStatement>().ToList();
                    for (int a = 0; a < accs.Count; a++)
                    {
                        w.Line($"double acc{CodeWriter.Int(a)} = 0;{(accs[a].Value.Node >= 0 ? $" // Σ {MathText.Name(_s, accs[a].Value.Node)}" : string.Empty)}");
                    }

                    w.Open("for (int j = first; j < hw; j += stride)");
                    w.Line("int i = start + j;");
                    PixelBody(w, k, accs);
                    w.Close();
                    w.Line();
                    for (int a = 0; a < accs.Count; a++)
                    {
                        string ai = CodeWriter.Int(a);
                        w.Line($"double r{ai} = global::ILGPU.Algorithms.GroupExtensions.Reduce<double, global::ILGPU.Algorithms.ScanReduceOperations.AddDouble>(acc{ai});");
                        w.Line($"if (global::ILGPU.Group.IsFirstThread) global::ILGPU.Atomic.Add(ref planeTable[{PlaneIndex(accs[a].Slot)}], r{ai});");
                    }

                    break;
                case Domain.Pixels when k.PerImage:
                    w.Line("int n = index / hw;");
                    w.Line("int p = n * channels; // channel 0 of the pixel's image");
                    w.Line("int i = (p * hw) + (index - (n * hw));");
                    Prologue(w, k);
                    PixelBody(w, k, new List<AccumulateStatement>());
                    break;
                case Domain.Pixels:
                    w.Line("int i = index;");
                    w.Line("int p = i / hw;");
                    Prologue(w, k);
                    PixelBody(w, k, new List<AccumulateStatement>());
                    break;
                case Domain.Planes:
                    w.Line("int p = index;");
                    Epilogue(w, k);
                    break;
                default:
                    Epilogue(w, k);
                    break;
            }

            w.Close();
        }

        private static string PlaneIndex(int slot) => slot == 0 ? "p" : $"({CodeWriter.Int(slot)} * planes) + p";

        /// <summary>The setup (double) and the uniforms the pixel body reads, as floats.</summary>
        private void Prologue(CodeWriter w, Kernel k)
        {
            foreach (var s in k.Setup)
            {
                w.Line($"double {_s.Name(s.Id)} = {_double.Print(s.Op, s.Args.Select(DoubleOperand).ToArray(), s.K, s.K2)};{Comment(s.Id)}");
            }

            foreach (var u in k.Uniforms)
            {
                w.Line($"float s{UniformName(u)} = (float){DoubleOperand(u)};{(u.Node >= 0 ? Comment(u.Node) : string.Empty)}");
            }
        }

        private void PixelBody(CodeWriter w, Kernel k, List<AccumulateStatement> accs)
        {
            foreach (var st in k.Body)
            {
                switch (st)
                {
                    case LoadStatement l:
                        w.Line($"float {_s.Name(l.Id)} = {FloatOperand(l.Source)};{Comment(l.Id)}");
                        break;
                    case LetStatement l:
                        w.Line($"float {_s.Name(l.Id)} = {_float.Print(l.Op, l.Args.Select(FloatOperand).ToArray(), l.K, l.K2)};{Comment(l.Id)}");
                        break;
                    case AccumulateStatement a:
                        w.Line($"acc{CodeWriter.Int(accs.IndexOf(a))} += {FloatOperand(a.Value)};");
                        break;
                    case StoreFieldStatement f when k.PerImage:
                        w.Line($"for (int ch = 0; ch < channels; ch++) fields[{FieldIndex(f.Buffer, "i + (ch * hw)")}] = {FloatOperand(f.Value)};");
                        break;
                    case StoreFieldStatement f:
                        w.Line($"fields[{FieldIndex(f.Buffer)}] = {FloatOperand(f.Value)};");
                        break;
                    case StoreGradientStatement g:
                        w.Line($"if ((gradMask & {1 << _logits.IndexOf(g.Input)}) != 0) {Grad(g.Input)}[i] = {FloatOperand(g.Value)};");
                        break;
                    case ChannelLoopStatement c:
                        ChannelLoop(w, k, c);
                        break;
                    default:
                        throw new System.InvalidOperationException($"{st.GetType().Name} in the pixel kernel {k.Name}.");
                }
            }
        }

        /// <summary>A reduction over the channels of the pixel: the sum in one loop, the log-sum-exp in two (maximum, then Σ e^(x − max)).</summary>
        private void ChannelLoop(CodeWriter w, Kernel k, ChannelLoopStatement c)
        {
            string name = _s.Name(c.Id);
            void Loop(string accumulate)
            {
                w.Open("for (int ch = 0; ch < channels; ch++)");
                w.Line("int o = i + ((ch - (p % channels)) * hw);");
                _inLoop = true;
                foreach (var st in c.Body)
                {
                    string value = st switch
                    {
                        LoadStatement l => FloatOperand(l.Source),
                        LetStatement l => _float.Print(l.Op, l.Args.Select(FloatOperand).ToArray(), l.K, l.K2),
                        _ => throw new System.InvalidOperationException($"{st.GetType().Name} in a channel loop of {k.Name}."),
                    };
                    int id = st is LoadStatement ld ? ld.Id : ((LetStatement)st).Id;
                    w.Line($"float {_s.Name(id)} = {value};");
                }

                string v = FloatOperand(c.Value);
                _inLoop = false;
                w.Line(accumulate.Replace("{v}", v) + ";");
                w.Close();
            }

            w.Line($"// {name} = {MathText.Expr(_s, c.Node)}");
            if (c.Reduce == Op.SumChannels)
            {
                w.Line($"float {name} = 0f;");
                Loop($"{name} += {{v}}");
                return;
            }

            string max = name + "_max", sum = name + "_sum";
            w.Line($"float {max} = float.NegativeInfinity;");
            Loop($"{max} = {_float.Print(Op.Max, new[] { max, "{v}" }, 0, 0)}");
            w.Line($"float {sum} = 0f;");
            Loop($"{sum} += {_float.Print(Op.Exp, new[] { _float.Print(Op.Sub, new[] { "{v}", max }, 0, 0) }, 0, 0)}");
            w.Line($"float {name} = {_float.Print(Op.Add, new[] { max, _float.Print(Op.Log, new[] { sum }, 0, 0) }, 0, 0)};");
        }

        /// <summary>True while a channel loop's body is printed: inputs, fields and plane slots are read at the loop's channel.</summary>
        private bool _inLoop;

        private void Epilogue(CodeWriter w, Kernel k)
        {
            foreach (var s in k.Setup)
            {
                w.Line($"double {_s.Name(s.Id)} = {_double.Print(s.Op, s.Args.Select(DoubleOperand).ToArray(), s.K, s.K2)};{Comment(s.Id)}");
            }

            foreach (var st in k.Body)
            {
                switch (st)
                {
                    case LetStatement l:
                        w.Line($"double {_s.Name(l.Id)} = {_double.Print(l.Op, l.Args.Select(DoubleOperand).ToArray(), l.K, l.K2)};{Comment(l.Id)}");
                        break;
                    case LoadStatement l:
                        w.Line($"double {_s.Name(l.Id)} = {DoubleOperand(l.Source)};{Comment(l.Id)}");
                        break;
                    case SeedStatement d:
                        w.Line($"double {_s.Name(d.Id)} = hasSeeds != 0 ? planeSeeds[p] : {DoubleOperand(d.Default)};");
                        break;
                    case StorePlaneStatement p:
                        w.Line($"planeTable[{PlaneIndex(p.Slot)}] = {DoubleOperand(p.Value)};");
                        break;
                    case StorePlaneLossStatement p:
                        w.Line($"planeLosses[p] = (float){DoubleOperand(p.Value)};");
                        break;
                    case StoreBatchStatement b:
                        w.Line($"batch[{CodeWriter.Int(b.Slot)}] = {DoubleOperand(b.Value)};");
                        break;
                    case SumPlanesStatement s:
                        w.Line($"double {_s.Name(s.Id)} = 0;{Comment(s.Id)}");
                        w.Line($"for (int p = 0; p < planes; p++) {_s.Name(s.Id)} += planeTable[{PlaneIndex(s.Slot)}];");
                        break;
                    case ResultStatement r:
                        w.Line($"lossOut[0] = (float){DoubleOperand(r.Value)};");
                        break;
                    case SumOverImagesStatement images:
                        // Per channel, the sum over the images' rows in order, written back to every image's row.
                        w.Open($"for (int __class = 0; __class < channels; __class++) // {_s.Name(images.Node)} = {MathText.Expr(_s, images.Node)}");
                        w.Line("double __sum = 0;");
                        w.Line($"for (int p = __class; p < planes; p += channels) __sum += planeTable[{PlaneIndex(images.Source)}];");
                        w.Line($"for (int p = __class; p < planes; p += channels) planeTable[{PlaneIndex(images.Destination)}] = __sum;");
                        w.Close();
                        break;
                    default:
                        throw new System.InvalidOperationException($"{st.GetType().Name} in the {k.Domain} kernel {k.Name}.");
                }
            }
        }

        private static string FieldIndex(int buffer, string pixel = "i") => buffer == 0 ? pixel : $"({CodeWriter.Int(buffer)} * length) + {pixel}";

        private static string UniformName(Operand u) => u.Node >= 0 ? CodeWriter.Int(u.Node) : "_" + u.Kind + CodeWriter.Int(u.Index);

        private string Comment(int id) => id >= 0 && id < _s.Graph.Count ? " // " + MathText.Expr(_s, id) : string.Empty;

        private string FloatOperand(Operand o) => o.Kind switch
        {
            OperandKind.Literal => Literals.Float(o.Value),
            OperandKind.Local when !_setupIds.Contains(o.Index) => _s.Name(o.Index),
            OperandKind.Input => $"{In(o.Index)}[{(_inLoop ? "o" : "i")}]",
            OperandKind.Field => $"fields[{FieldIndex(o.Index, _inLoop ? "o" : "i")}]",
            OperandKind.PlaneSlot when _inLoop => $"(float)planeTable[{PlaneIndex(o.Index)} - (p % channels) + ch]",
            _ => "s" + UniformName(o),
        };

        private string DoubleOperand(Operand o) => o.Kind switch
        {
            OperandKind.Literal => CodeWriter.Num(o.Value),
            OperandKind.Local => _s.Name(o.Index),
            OperandKind.PlaneSlot => $"planeTable[{PlaneIndex(o.Index)}]",
            OperandKind.BatchSlot => $"batch[{CodeWriter.Int(o.Index)}]",
            OperandKind.Shape => (ShapeQuantity)o.Index switch
            {
                ShapeQuantity.PlaneSize => "(double)hw",
                ShapeQuantity.Length => "(double)length",
                ShapeQuantity.Channels => "(double)channels",
                ShapeQuantity.ChannelIndex => "(double)(p % channels)",
                _ => "(double)planes",
            },
            _ => throw new System.InvalidOperationException($"A per-pixel operand ({o.Kind}) in an epilogue."),
        };
    }
}
