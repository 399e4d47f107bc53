using System;
using System.Collections.Generic;
using System.Linq;
using LossDsl.Generators.Model;
using LossDsl.Generators.Schedule;

namespace LossDsl.Generators.Kernels;

/// <summary>
/// Lowers a <see cref="ScheduleSpec"/> to a <see cref="KernelProgram"/>: one kernel per phase of the schedule, every operand
/// resolved to where its value lives when the kernel runs. A value read by a later kernel than the one that computes it is
/// given a home there — a field buffer (per pixel), a slot of the plane table (per plane) or of the batch table — and the
/// defining kernel stores it. Shape-dependent scalars are evaluated in the setup of each kernel that reads them. These are
/// the decisions every backend shares; the backends only print.
/// </summary>
internal static class KernelPlanner
{
    /// <summary>Plans the kernel program of a schedule.</summary>
    /// <param name="schedule">The schedule.</param>
    /// <param name="shareExponentials">
    /// Whether pixel kernels compute <c>e^-|x|</c> once for the sigmoid, softplus, log-sigmoid and BCE of one logit (see
    /// <c>ShareExponentials</c>): right for backends that fuse a kernel into one loop; a tensor-op backend, where every
    /// shared value is one more launch, plans without it.
    /// </param>
    public static KernelProgram Plan(ScheduleSpec schedule, bool shareExponentials = true) => new Planner(schedule, shareExponentials).Run();

    private sealed class Draft
    {
        public Draft(string name, Domain domain, KernelRole role, string summary)
        {
            Name = name;
            Domain = domain;
            Role = role;
            Summary = summary;
        }

        public string Name { get; }

        public Domain Domain { get; }

        public KernelRole Role { get; }

        public string Summary { get; }

        public List<LetStatement> Setup { get; } = new();

        public List<Statement> Body { get; } = new();

        /// <summary>Stores appended after the body: values a later kernel reads.</summary>
        public List<Statement> Exports { get; } = new();

        public HashSet<int> Locals { get; } = new();

        /// <summary>See <see cref="Kernel.PerImage"/>.</summary>
        public bool PerImage { get; init; }

        public Kernel ToKernel()
        {
            var body = Body.Concat(Exports).ToList();
            var setupIds = new HashSet<int>(Setup.Select(s => s.Id));
            // A channel loop reads per-plane values at its own channel: those are not the plane's uniforms.
            var uniforms = Domain == Domain.Pixels
                ? body.SelectMany(s => s is ChannelLoopStatement c ? Kernel.StatementReads(c).Where(o => o.Kind != OperandKind.PlaneSlot) : Kernel.StatementReads(s))
                    .Where(o => o.IsUniform || (o.Kind == OperandKind.Local && setupIds.Contains(o.Index)))
                    .Distinct()
                    .OrderBy(o => o.Node < 0 ? int.MaxValue : o.Node).ThenBy(o => o.Kind).ThenBy(o => o.Index)
                    .ToList()
                : new List<Operand>();
            return new Kernel(Name, Domain, Role, Summary, Setup.ToEquatable(), uniforms.ToEquatable(), body.ToEquatable()) { PerImage = PerImage };
        }
    }

    private sealed class Planner
    {
        private readonly ScheduleSpec _s;
        private readonly Graph _g;
        private readonly List<string> _names = new();
        private readonly List<Slot> _fields = new();
        private readonly List<Slot> _planeSlots = new();
        private readonly List<Slot> _batchSlots = new();
        private readonly Dictionary<int, int> _fieldOf = new();
        private readonly Dictionary<int, int> _planeSlotOf = new();
        private readonly Dictionary<int, int> _batchSlotOf = new();
        private readonly Dictionary<int, Draft> _definedIn = new();
        private readonly List<Draft> _kernels = new();

        private readonly bool _shareExponentials;

        public Planner(ScheduleSpec s, bool shareExponentials)
        {
            _s = s;
            _shareExponentials = shareExponentials;
            _g = s.Graph;
            _names.AddRange(ValueNames.Of(s));
        }

        public KernelProgram Run()
        {
            // Slot 0 of the plane table: each plane's loss.
            int lossSlot = NewPlaneSlot(_s.PlaneLoss, "plane loss");

            var late = LatePlaneStatements();
            TargetPrePass();
            Forward();
            BatchEpilogue();
            PlaneEpilogue(lossSlot, late);
            Finish(lossSlot);
            PlaneAdjoint(late);
            Backward();
            if (_shareExponentials)
            {
                foreach (var k in _kernels.Where(k => k.Domain == Domain.Pixels))
                {
                    ShareExponentials(k);
                }
            }

            return new KernelProgram(
                _s,
                _kernels.Select(k => k.ToKernel()).ToEquatable(),
                _fields.ToEquatable(),
                _planeSlots.ToEquatable(),
                _batchSlots.ToEquatable(),
                _names.ToEquatable());
        }

        // ------------------------------------------------------------------ phases

        private void TargetPrePass()
        {
            foreach (var st in _s.Stencils)
            {
                if (_g[st.Source].Op != Op.Input)
                {
                    var source = Open($"Source{st.Node}", Domain.Pixels, KernelRole.Target, $"the source of the target-only stencil v{st.Node}, per pixel");
                    PixelProgram(source, st.SourceProgram);
                }

                var filter = Open($"Stencil{st.Node}", Domain.Filter, KernelRole.Target, $"the target-only stencil v{st.Node}, separable per plane");
                var src = Resolve(filter, st.Source);
                _fieldOf[st.Node] = NewField(st.Node, "stencil");
                filter.Body.Add(new FilterStatement(st.Kind, st.Kernel, src, _fieldOf[st.Node], st.Node));
            }
        }

        private void Forward()
        {
            var k = Open("Forward", Domain.Pixels, KernelRole.Forward, "the forward sweep: every per-pixel value once, every reduction accumulated in one pass");
            PixelProgram(k, _s.ForwardProgram);
            foreach (int acc in _s.Accumulators)
            {
                int slot = NewPlaneSlot(acc, _g[acc].Op == Op.Sum ? "sum" : "per-plane part of a batch sum");
                k.Body.Add(new AccumulateStatement(slot, Resolve(k, _g[acc].Args[0])));
                if (_g[acc].Op == Op.Sum)
                {
                    _planeSlotOf[acc] = slot;
                }
            }
        }

        private void BatchEpilogue()
        {
            var batchSums = _s.Accumulators.Where(a => _g[a].Op == Op.BatchSum).ToList();
            if (batchSums.Count == 0 && _s.BatchForward.Count == 0 && _s.ImageSumsForward.Count == 0)
            {
                return;
            }

            var k = Open("BatchForward", Domain.Once, KernelRole.Forward, _s.ImageSumsForward.Count == 0
                ? "the batch epilogue: the batch sums over planes, then the whole-batch values"
                : "the batch epilogue: the batch sums over planes, the whole-batch values and the per-class sums over images");
            foreach (int acc in batchSums)
            {
                int slot = _planeSlots.First(x => x.Node == acc).Index;
                k.Body.Add(new SumPlanesStatement(acc, slot));
                Define(k, acc);
            }

            foreach (int id in _s.BatchForward)
            {
                Let(k, id);
            }

            foreach (int id in _s.ImageSumsForward)
            {
                SumOverImages(k, id);
            }
        }

        /// <summary>
        /// Sum over images <paramref name="id"/> in once-kernel <paramref name="k"/>: from its argument's plane slot (which an
        /// earlier kernel wrote) into a slot of its own, which later kernels read as a per-plane value.
        /// </summary>
        private void SumOverImages(Draft k, int id)
        {
            int arg = _g[id].Args[0];
            if (!_planeSlotOf.ContainsKey(arg) && (!_definedIn.TryGetValue(arg, out var owner) || _kernels.IndexOf(owner) > _kernels.IndexOf(k)))
            {
                throw new InvalidOperationException($"The sum over images v{id} reads v{arg} = {_g[arg]} before any kernel computes it.");
            }

            int source = PlaneHome(arg);
            int destination = NewPlaneSlot(id, "a sum over images, per channel");
            _planeSlotOf[id] = destination;
            k.Body.Add(new SumOverImagesStatement(id, source, destination));
        }

        /// <summary>
        /// Plane statements that read a batch adjoint (directly or through another plane statement): with a whole-batch term
        /// beside per-plane terms (<c>Mean(pred) * BatchMean(pred)</c>) the gradient of a plane mixes the plane's seed with an
        /// adjoint summed over all planes, which exists only after the plane epilogue. They get a plane kernel of their own
        /// after the batch adjoints.
        /// </summary>
        private HashSet<int> LatePlaneStatements()
        {
            var batchAdjoints = new HashSet<int>(_s.BatchAdjoint.Concat(_s.PlaneSums).Concat(_s.ImageSumsAdjoint));
            var late = new HashSet<int>();
            foreach (int id in _s.PlaneStatements)
            {
                if (_g[id].Args.Any(a => batchAdjoints.Contains(a) || late.Contains(a)))
                {
                    late.Add(id);
                }
            }

            return late;
        }

        private void PlaneAdjoint(HashSet<int> late)
        {
            if (late.Count == 0)
            {
                return;
            }

            var k = Open("PlaneAdjoint", Domain.Planes, KernelRole.Forward, "the per-plane adjoints that read a batch adjoint");
            foreach (int id in _s.PlaneStatements.Where(late.Contains))
            {
                Let(k, id);
            }
        }

        private void PlaneEpilogue(int lossSlot, HashSet<int> late)
        {
            var k = Open("Plane", Domain.Planes, KernelRole.Forward, "the plane epilogue: each plane's loss, its seed and the adjoints the backward reads");
            int seed = _g.Nodes.Select((n, id) => (n, id)).Where(x => x.n.Op == Op.Seed).Select(x => x.id).DefaultIfEmpty(-1).First();
            if (seed >= 0)
            {
                var fallback = Operand.Literal(1);
                if (_s.Spec.Reduction == ReductionKind.Mean)
                {
                    int d = Synthetic("defaultSeed");
                    k.Setup.Add(new LetStatement(d, Op.Div, new[] { Operand.Literal(1), Operand.Shape(ShapeQuantity.Planes) }.ToEquatable(), 0, 0));
                    k.Locals.Add(d);
                    fallback = new Operand(OperandKind.Local, d, 0, -1);
                }

                k.Body.Add(new SeedStatement(seed, fallback));
                Define(k, seed);
            }

            foreach (int id in _s.PlaneStatements.Where(id => !late.Contains(id)))
            {
                Let(k, id);
            }

            var loss = Resolve(k, _s.PlaneLoss);
            k.Body.Add(new StorePlaneStatement(lossSlot, loss));
            k.Body.Add(new StorePlaneLossStatement(loss));
            foreach (int ps in _s.PlaneSums)
            {
                int slot = NewPlaneSlot(ps, "term of a sum over planes");
                k.Body.Add(new StorePlaneStatement(slot, Resolve(k, _g[ps].Args[0])));
            }
        }

        private void Finish(int lossSlot)
        {
            var k = Open("Finish", Domain.Once, KernelRole.Forward, "the final epilogue: the loss over planes, the sums over planes and the batch adjoints");
            int total = Synthetic("total");
            k.Body.Add(new SumPlanesStatement(total, lossSlot));
            k.Locals.Add(total);
            var result = new Operand(OperandKind.Local, total, 0, -1);
            if (_s.Spec.Reduction == ReductionKind.Mean)
            {
                int mean = Synthetic("loss");
                k.Body.Add(new LetStatement(mean, Op.Div, new[] { result, Operand.Shape(ShapeQuantity.Planes) }.ToEquatable(), 0, 0));
                k.Locals.Add(mean);
                result = new Operand(OperandKind.Local, mean, 0, -1);
            }

            k.Body.Add(new ResultStatement(result));
            foreach (int ps in _s.PlaneSums)
            {
                k.Body.Add(new SumPlanesStatement(ps, _planeSlots.First(x => x.Node == ps).Index));
                Define(k, ps);
            }

            foreach (int id in _s.BatchAdjoint)
            {
                Let(k, id);
            }

            foreach (int id in _s.ImageSumsAdjoint)
            {
                SumOverImages(k, id);
            }
        }

        private void Backward()
        {
            if (_s.Gradients.Count == 0)
            {
                return;
            }

            var k = Open("Backward", Domain.Pixels, KernelRole.Backward, "the backward sweep: recomputes the per-pixel values it needs and writes the gradient");
            PixelProgram(k, _s.BackwardProgram);
            foreach (var grad in _s.Gradients)
            {
                k.Body.Add(new StoreGradientStatement(grad.Input, Resolve(k, grad.Node)));
            }
        }

        // ------------------------------------------------------------------ building blocks

        private Draft Open(string name, Domain domain, KernelRole role, string summary)
        {
            var k = new Draft(name, domain, role, summary);
            _kernels.Add(k);
            return k;
        }

        private void Define(Draft k, int id)
        {
            k.Locals.Add(id);
            _definedIn[id] = k;
        }

        /// <summary>A per-pixel program: inputs and stencils are loaded once, every other node is a let.</summary>
        private void PixelProgram(Draft k, IEnumerable<int> program)
        {
            foreach (int id in program)
            {
                var n = _g[id];
                if (n.Op == Op.Input || OpTable.Get(n.Op).Class == OpClass.Stencil)
                {
                    k.Body.Add(new LoadStatement(id, Resolve(k, id)));
                    Define(k, id);
                }
                else if (Scheduler.IsChannelReduction(n.Op) && k.Role != KernelRole.Target && !k.PerImage)
                {
                    // Computed once per pixel of each image, into a buffer, before this sweep: one pass over the channels
                    // per pixel instead of one per plane.
                    Reduction(id, k);
                    k.Body.Add(new LoadStatement(id, Resolve(k, id)));
                    Define(k, id);
                }
                else if (Scheduler.IsChannelReduction(n.Op))
                {
                    // Target-only work runs per plane; an image kernel of its own computes the rest of its reductions.
                    foreach (int outer in PixelOnly(Scheduler.ChannelLoop(_g, n.Args[0]).Outer, k))
                    {
                        if (!k.Locals.Contains(outer))
                        {
                            PixelProgram(k, new[] { outer });
                        }
                    }

                    k.Body.Add(ChannelLoop(k, id));
                    Define(k, id);
                }
                else
                {
                    Let(k, id);
                }
            }
        }

        /// <summary>
        /// Plans the image kernel that computes reduction <paramref name="id"/> over channels into a field buffer, before
        /// <paramref name="sweep"/> (after the image kernels of the reductions it reads): the channel-constant values its loop
        /// reads, the loop, and a store to every channel of the pixel.
        /// </summary>
        private void Reduction(int id, Draft sweep)
        {
            if (_fieldOf.ContainsKey(id))
            {
                return;
            }

            var outer = Scheduler.ChannelLoop(_g, _g[id].Args[0]).Outer;
            var program = PixelOnly(outer, null);
            foreach (int r in program.Where(r => Scheduler.IsChannelReduction(_g[r].Op)))
            {
                Reduction(r, sweep);
            }

            var k = new Draft($"Channels{Int(id)}", Domain.Pixels, sweep.Role, $"the reduction over channels v{Int(id)}, once per pixel of each image (one loop over the channels)") { PerImage = true };
            _kernels.Insert(_kernels.IndexOf(sweep), k);
            foreach (int r in program)
            {
                if (Scheduler.IsChannelReduction(_g[r].Op))
                {
                    k.Body.Add(new LoadStatement(r, Resolve(k, r)));
                    Define(k, r);
                }
                else
                {
                    PixelProgram(k, new[] { r });
                }
            }

            k.Body.Add(ChannelLoop(k, id));
            Define(k, id);
            _fieldOf[id] = NewField(id, "a reduction over channels, at every channel");
            k.Exports.Add(new StoreFieldStatement(_fieldOf[id], new Operand(OperandKind.Local, id, 0, id)));
        }

        /// <summary>
        /// The channel-constant nodes <paramref name="roots"/> need, in dependency order, stopping at reductions over channels
        /// (included: read from their buffers) and at what <paramref name="k"/> already holds.
        /// </summary>
        private List<int> PixelOnly(IEnumerable<int> roots, Draft? k)
        {
            var seen = new HashSet<int>();
            var st = new Stack<int>(roots);
            while (st.Count > 0)
            {
                int id = st.Pop();
                var n = _g[id];
                if (n.Rank != Rank.Pixel || (k is not null && k.Locals.Contains(id)) || !seen.Add(id))
                {
                    continue;
                }

                if (!Scheduler.IsChannelReduction(n.Op) || k is not null)
                {
                    foreach (int a in n.Args)
                    {
                        st.Push(a);
                    }
                }
            }

            return seen.OrderBy(x => x).ToList();
        }

        /// <summary>
        /// The loop over channels that evaluates reduction <paramref name="id"/>: its argument's channel-varying program with
        /// values of their own (the same node at the kernel's channel and at the loop's are different values), reading
        /// channel-constant values from the kernel.
        /// </summary>
        private ChannelLoopStatement ChannelLoop(Draft k, int id)
        {
            var n = _g[id];
            var program = Scheduler.ChannelLoop(_g, n.Args[0]);
            var inLoop = new Dictionary<int, int>();
            var body = new List<Statement>();
            Operand Read(int a) => inLoop.TryGetValue(a, out int v) ? new Operand(OperandKind.Local, v, 0, a) : Resolve(k, a);
            foreach (int node in program.Body)
            {
                var m = _g[node];
                int v = Synthetic(Unique(_names[node] + "_c"));
                if (m.Op == Op.Input)
                {
                    body.Add(new LoadStatement(v, new Operand(OperandKind.Input, (int)m.Value, 0, node)));
                }
                else if (OpTable.Get(m.Op).Class == OpClass.Stencil)
                {
                    body.Add(new LoadStatement(v, new Operand(OperandKind.Field, FieldHome(node), 0, node)));
                }
                else
                {
                    body.Add(new LetStatement(v, m.Op, m.Args.Select(Read).ToEquatable(), m.Value, m.Value2));
                }

                inLoop[node] = v;
            }

            return new ChannelLoopStatement(id, n.Op, body.ToEquatable(), Read(n.Args[0]), id);
        }

        private void Let(Draft k, int id)
        {
            var n = _g[id];
            var args = n.Args.Select(a => Resolve(k, a)).ToEquatable();
            k.Body.Add(new LetStatement(id, n.Op, args, n.Value, n.Value2));
            Define(k, id);
        }

        /// <summary>Where kernel <paramref name="k"/> reads node <paramref name="id"/>.</summary>
        private Operand Resolve(Draft k, int id)
        {
            var n = _g[id];
            if (k.Locals.Contains(id))
            {
                return new Operand(OperandKind.Local, id, 0, id);
            }

            switch (n.Op)
            {
                case Op.Const:
                    return new Operand(OperandKind.Literal, 0, n.Value, id);
                case Op.Input:
                    return new Operand(OperandKind.Input, (int)n.Value, 0, id);
                case Op.PlaneSize:
                    return new Operand(OperandKind.Shape, (int)ShapeQuantity.PlaneSize, 0, id);
                case Op.BatchSize:
                    return new Operand(OperandKind.Shape, (int)ShapeQuantity.Length, 0, id);
                case Op.ChannelCount:
                    return new Operand(OperandKind.Shape, (int)ShapeQuantity.Channels, 0, id);
                case Op.ChannelIndex:
                    return new Operand(OperandKind.Shape, (int)ShapeQuantity.ChannelIndex, 0, id);
            }

            if (n.Rank == Rank.Scalar)
            {
                // A shape-dependent scalar: evaluated in the kernel's setup, once per launch.
                var args = n.Args.Select(a => Resolve(k, a)).ToEquatable();
                k.Setup.Add(new LetStatement(id, n.Op, args, n.Value, n.Value2));
                k.Locals.Add(id);
                return new Operand(OperandKind.Local, id, 0, id);
            }

            Operand home = n.Rank switch
            {
                Rank.Field or Rank.Pixel => new Operand(OperandKind.Field, FieldHome(id), 0, id),
                Rank.Plane => new Operand(OperandKind.PlaneSlot, PlaneHome(id), 0, id),
                _ => new Operand(OperandKind.BatchSlot, BatchHome(id), 0, id),
            };

            if (k.Domain is Domain.Planes or Domain.Once)
            {
                // Epilogues name what they read, so that they read like the math.
                k.Body.Add(new LoadStatement(id, home));
                k.Locals.Add(id);
                return new Operand(OperandKind.Local, id, 0, id);
            }

            return home;
        }

        private int FieldHome(int id)
        {
            if (!_fieldOf.TryGetValue(id, out int b))
            {
                var owner = Owner(id);
                b = NewField(id, "materialised for a later kernel");
                _fieldOf[id] = b;
                owner.Exports.Add(new StoreFieldStatement(b, new Operand(OperandKind.Local, id, 0, id)));
            }

            return b;
        }

        private int PlaneHome(int id)
        {
            if (!_planeSlotOf.TryGetValue(id, out int slot))
            {
                var owner = Owner(id);
                slot = NewPlaneSlot(id, "saved for the backward");
                _planeSlotOf[id] = slot;
                owner.Exports.Add(new StorePlaneStatement(slot, new Operand(OperandKind.Local, id, 0, id)));
            }

            return slot;
        }

        private int BatchHome(int id)
        {
            if (!_batchSlotOf.TryGetValue(id, out int slot))
            {
                var owner = Owner(id);
                slot = _batchSlots.Count;
                _batchSlots.Add(new Slot(slot, id, "batch value"));
                _batchSlotOf[id] = slot;
                owner.Exports.Add(new StoreBatchStatement(slot, new Operand(OperandKind.Local, id, 0, id)));
            }

            return slot;
        }

        private Draft Owner(int id) => _definedIn.TryGetValue(id, out var k)
            ? k
            : throw new InvalidOperationException($"The schedule reads v{id} = {_g[id]} before any kernel computes it.");

        private int NewField(int node, string purpose)
        {
            _fields.Add(new Slot(_fields.Count, node, purpose));
            return _fields.Count - 1;
        }

        private int NewPlaneSlot(int node, string purpose)
        {
            _planeSlots.Add(new Slot(_planeSlots.Count, node, purpose));
            return _planeSlots.Count - 1;
        }

        /// <summary>
        /// Sigmoid, softplus, log-sigmoid and the stable BCE of one logit each need <c>e^-|x|</c>, and the last three also
        /// <c>log1p(e^-|x|)</c>. Where a pixel kernel evaluates two or more of them on the same operand, it computes
        /// those once: <c>e = exp(-|x|)</c>, <c>l = log1p(e)</c>, then sigmoid from <c>e</c>
        /// (<see cref="Op.SigmoidFromExp"/>), softplus as <c>max(x, 0) + l</c>, log-sigmoid as <c>min(x, 0) - l</c> and
        /// the BCE as <c>max(x, 0) - x·t + l</c> — one exponential and one logarithm per pixel instead of one of each per op.
        /// </summary>
        private void ShareExponentials(Draft k)
        {
            var groups = k.Body.OfType<LetStatement>()
                .Where(l => l.Op is Op.Sigmoid or Op.Softplus or Op.LogSigmoid or Op.BceWithLogits)
                .GroupBy(l => l.Args[0])
                .Where(g => g.Count() >= 2)
                .ToList();
            foreach (var group in groups)
            {
                var x = group.Key;
                var members = group.ToList();
                string suffix = Int(_shared++);

                // The shared values, just before the first member.
                var shared = new List<Statement>();
                var abs = Let(shared, "__abs" + suffix, Op.Abs, x);
                var e = Let(shared, "__e" + suffix, Op.Exp, Let(shared, "__nabs" + suffix, Op.Neg, abs));
                var l = members.Any(m => m.Op != Op.Sigmoid) ? Let(shared, "__l" + suffix, Op.Log1p, e) : null;
                var relu = members.Any(m => m.Op is Op.Softplus or Op.BceWithLogits) ? Let(shared, "__relu" + suffix, Op.Max, x, Operand.Literal(0)) : null;
                k.Body.InsertRange(k.Body.IndexOf(members[0]), shared);

                // Each member from them: its own values just before it, then the member itself rewritten.
                for (int j = 0; j < members.Count; j++)
                {
                    var m = members[j];
                    string own = j == 0 ? suffix : suffix + "_" + Int(j);
                    var before = new List<Statement>();
                    var rewritten = m.Op switch
                    {
                        Op.Sigmoid => m with { Op = Op.SigmoidFromExp, Args = new[] { x, e }.ToEquatable() },
                        Op.Softplus => m with { Op = Op.Add, Args = new[] { relu!, l! }.ToEquatable() },
                        Op.LogSigmoid => m with { Op = Op.Sub, Args = new[] { Let(before, "__min" + own, Op.Min, x, Operand.Literal(0)), l! }.ToEquatable() },

                        // BceWithLogits(x, t) = max(x, 0) - x·t + log1p(e^-|x|)
                        _ => m with { Op = Op.Add, Args = new[] { Let(before, "__d" + own, Op.Sub, relu!, Let(before, "__xt" + own, Op.Mul, x, m.Args[1])), l! }.ToEquatable() },
                    };
                    int i = k.Body.IndexOf(m);
                    k.Body[i] = rewritten;
                    k.Body.InsertRange(i, before);
                }
            }
        }

        /// <summary>Appends <c>name = op(args)</c> to <paramref name="into"/> and returns the new value as an operand.</summary>
        private Operand Let(List<Statement> into, string name, Op op, params Operand[] args)
        {
            int id = Synthetic(name);
            into.Add(new LetStatement(id, op, args.ToEquatable(), 0, 0));
            return new Operand(OperandKind.Local, id, 0, -1);
        }

        private int _shared;

        private static string Int(int v) => v.ToString(System.Globalization.CultureInfo.InvariantCulture);

        /// <summary><paramref name="name"/>, or with a number appended where a value already has it.</summary>
        private string Unique(string name)
        {
            var used = new HashSet<string>(_names, StringComparer.Ordinal);
            string result = name;
            for (int i = 2; used.Contains(result); i++)
            {
                result = name + Int(i);
            }

            return result;
        }

        private int Synthetic(string name)
        {
            _names.Add(name);
            return _names.Count - 1;
        }
    }
}
