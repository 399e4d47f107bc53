using System;
using System.Collections.Generic;
using System.Linq;
using ILGPU;
using ILGPU.Runtime;
using LossDsl.Ilgpu;
using LossDsl.Losses;
using LossDsl.TorchSharp.Tests;
using TorchSharp;
using static TorchSharp.torch;

namespace LossDsl.Benchmarks;

/// <summary>One implementation set up for one shape: <see cref="Run"/> is one forward + backward; dispose to free the inputs (in the order given).</summary>
public sealed class Prepared(Action run, params IDisposable[] resources) : IDisposable
{
    public Action Run { get; } = run;

    public void Dispose()
    {
        foreach (var r in resources)
        {
            r.Dispose();
        }
    }
}

/// <summary>
/// The structure-loss implementations the quick mode compares, by id. The same ids name them on the command line of the
/// peak-memory child process (<c>--peak &lt;id&gt; &lt;N&gt; &lt;side&gt;</c>), so the table and the child run identical code.
/// </summary>
public static class Variants
{
    /// <summary>Side outputs in the deep-supervision comparison (PraNet has four).</summary>
    public const int SideOutputs = 4;

    public static readonly IReadOnlyList<(string Id, string Name)> Single =
    [
        ("eager", "eager TorchSharp (PyTorch code, translated)"),
        ("torch", "generated TorchSharp (Compute + backward)"),
        ("torchops", "generated TorchSharp, tensor-op path (TorchOps)"),
        ("cpu", "generated CPU (spans)"),
    ];

    public static readonly IReadOnlyList<(string Id, string Name)> Deep =
    [
        ("deep-eager", $"eager TorchSharp, {SideOutputs} calls summed + backward"),
        ("deep-torch-separate", $"generated TorchSharp, {SideOutputs} separate Compute calls summed + backward"),
        ("deep-torch", "generated TorchSharp, Compute(preds, mask) + backward"),
        ("deep-torchops", "generated TorchSharp tensor-op path, TorchOps.Compute(preds, mask) + backward"),
    ];

    /// <summary>Sets up variant <paramref name="id"/> on a fresh <see cref="Workload"/> of <paramref name="shape"/>.</summary>
    public static Prepared Create(string id, LossShape shape) => Create(id, new Workload(shape));

    /// <summary>Sets up variant <paramref name="id"/> on <paramref name="w"/> (its arrays are copied into tensors or device buffers where needed).</summary>
    public static Prepared Create(string id, Workload w) => id switch
    {
        "eager" or "torch" or "torchops" => Torch(w, TorchLoss(id)),
        "cpu" => new Prepared(() => StructureLoss.Cpu.Compute(w.Pred, w.Mask, w.Grad, w.Shape)),
        "ilgpu" => Ilgpu(w),
        "deep-eager" => DeepTorch(w, (ps, m) => Sum(ps.Select(p => EagerStructureLoss.Weighted(p, m)))),
        "deep-torch-separate" => DeepTorch(w, (ps, m) => Sum(ps.Select(p => StructureLoss.Compute(p, m)))),
        "deep-torch" => DeepTorch(w, StructureLoss.Compute),
        "deep-torchops" => DeepTorch(w, StructureLoss.TorchOps.Compute),
        _ => throw new ArgumentException($"Unknown variant '{id}'.", nameof(id)),
    };

    /// <summary>The loss function of a single-output TorchSharp variant.</summary>
    public static Func<Tensor, Tensor, Tensor> TorchLoss(string id) => id switch
    {
        "eager" => (p, m) => EagerStructureLoss.Weighted(p, m),
        "torch" => StructureLoss.Compute,
        "torchops" => StructureLoss.TorchOps.Compute,
        _ => throw new ArgumentException($"'{id}' is not a single-output TorchSharp variant.", nameof(id)),
    };

    /// <summary>The leaf logits (requires grad) and the mask as tensors holding <paramref name="w"/>'s values.</summary>
    public static (Tensor Pred, Tensor Mask) Tensors(Workload w)
    {
        var shape = new long[] { w.Shape.N, w.Shape.C, w.Shape.H, w.Shape.W };
        return (torch.tensor(w.Pred, shape).requires_grad_(true), torch.tensor(w.Mask, shape));
    }

    /// <summary>One forward + backward of <paramref name="loss"/>; the gradient is zeroed after each call, identically for every TorchSharp variant.</summary>
    public static Action TorchStep(Tensor pred, Tensor mask, Func<Tensor, Tensor, Tensor> loss) => () =>
    {
        using var scope = torch.NewDisposeScope();
        loss(pred, mask).backward();
        pred.grad!.zero_();
    };

    /// <summary>As <see cref="TorchStep"/>, but the gradient is set to none after each call (PyTorch's default <c>zero_grad</c>).</summary>
    public static Action TorchStepToNone(Tensor pred, Tensor mask, Func<Tensor, Tensor, Tensor> loss) => () =>
    {
        using var scope = torch.NewDisposeScope();
        loss(pred, mask).backward();
        pred.grad = null;
    };

    private static Prepared Torch(Workload w, Func<Tensor, Tensor, Tensor> loss)
    {
        var (pred, mask) = Tensors(w);
        return new Prepared(TorchStep(pred, mask, loss), pred, mask);
    }

    /// <summary>Four side outputs: the workload's logits and three perturbed copies (as a network's side outputs would differ).</summary>
    public static Tensor[] SidePreds(Workload w)
    {
        var shape = new long[] { w.Shape.N, w.Shape.C, w.Shape.H, w.Shape.W };
        var preds = new Tensor[SideOutputs];
        for (int s = 0; s < SideOutputs; s++)
        {
            float scale = 1f - (0.15f * s);
            preds[s] = torch.tensor(w.Pred.Select(v => v * scale).ToArray(), shape).requires_grad_(true);
        }

        return preds;
    }

    private static Prepared DeepTorch(Workload w, Func<IReadOnlyList<Tensor>, Tensor, Tensor> loss)
    {
        var preds = SidePreds(w);
        var mask = torch.tensor(w.Mask, new long[] { w.Shape.N, w.Shape.C, w.Shape.H, w.Shape.W });
        void Step()
        {
            using var scope = torch.NewDisposeScope();
            loss(preds, mask).backward();
            foreach (var p in preds)
            {
                p.grad!.zero_();
            }
        }

        return new Prepared(Step, [.. preds, mask]);
    }

    private static Tensor Sum(IEnumerable<Tensor> losses) => losses.Aggregate((a, b) => a + b);

    /// <summary>The generated ILGPU runner on ILGPU's CPU accelerator (simulated GPU threads); buffers allocated once.</summary>
    private static Prepared Ilgpu(Workload w)
    {
        var context = IlgpuBridge.CreateContext();
        var accelerator = IlgpuBridge.CreateAccelerator(context, preferCuda: false);
        var pred = accelerator.Allocate1D(w.Pred);
        var mask = accelerator.Allocate1D(w.Mask);
        var grad = accelerator.Allocate1D<float>(w.Grad.Length);
        var runner = new StructureLoss.Ilgpu(accelerator);
        var shape = w.Shape;
        return new Prepared(() => runner.Compute(pred.View, mask.View, grad.View, shape), runner, grad, mask, pred, accelerator, context);
    }
}
