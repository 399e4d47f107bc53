using System;
using System.Globalization;
using LossDsl.Losses;
using TorchSharp;
using static TorchSharp.torch;

namespace LossDsl.Benchmarks;

/// <summary>
/// <c>--multiclass</c>: MONAI's <c>DiceCELoss(softmax=True)</c> (<see cref="DiceCELoss"/>) on 16×4×256×256 and nnU-Net's
/// <c>DC_and_CE_loss</c> (<see cref="NnUNetDiceCELoss"/>) on 16×4×256×256 and on 2×4×64×128×128 3-D patches, forward +
/// backward, float32, one-hot targets: an eager TorchSharp translation through autograd, the generated kernel on spans, the
/// generated <c>Compute</c> + <c>backward()</c> (the kernel on the tensors' memory) and the generated tensor-op path. Median and
/// minimum of repeated calls after a steady-state warm-up, in one process, and each row's ratio to eager.
/// </summary>
public static class MultiClassBench
{
    public const string Flag = "--multiclass";

    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    private delegate float Spans(ReadOnlySpan<float> pred, ReadOnlySpan<float> target, Span<float> grad, LossShape shape);

    public static int Run()
    {
        torch.set_num_threads(Environment.ProcessorCount);
        Case("MONAI DiceCELoss(softmax=True)", new LossShape(16, 4, 256, 256), DiceCELoss.Cpu.Compute, DiceCELoss.Compute, DiceCELoss.TorchOps.Compute, Eager);
        Case("nnU-Net DC_and_CE_loss (batch_dice, do_bg=False)", new LossShape(16, 4, 256, 256), NnUNetDiceCELoss.Cpu.Compute, NnUNetDiceCELoss.Compute, NnUNetDiceCELoss.TorchOps.Compute, EagerNnUNet);
        Case("nnU-Net DC_and_CE_loss (batch_dice, do_bg=False), 3-D patches", new LossShape(2, 4, 64, 128, 128), NnUNetDiceCELoss.Cpu.Compute, NnUNetDiceCELoss.Compute, NnUNetDiceCELoss.TorchOps.Compute, EagerNnUNet);
        return 0;
    }

    private static void Case(string title, LossShape shape, Spans spans, Func<Tensor, Tensor, Tensor> compute, Func<Tensor, Tensor, Tensor> ops, Func<Tensor, Tensor, Tensor> eagerLoss)
    {
        long[] dims = shape.D == 1 ? new long[] { shape.N, shape.C, shape.H, shape.W } : new long[] { shape.N, shape.C, shape.D, shape.H, shape.W };
        var rng = new Random(7);
        var pred = new float[shape.Length];
        var target = new float[shape.Length];
        for (int n = 0; n < shape.N; n++)
        {
            for (int i = 0; i < shape.PlaneSize; i++)
            {
                int label = (i / 97 + n) % shape.C;
                for (int c = 0; c < shape.C; c++)
                {
                    int at = (((n * shape.C) + c) * shape.PlaneSize) + i;
                    pred[at] = (float)((rng.NextDouble() * 8) - 4);
                    target[at] = c == label ? 1f : 0f;
                }
            }
        }

        var grad = new float[shape.Length];
        using var tPred = torch.tensor(pred, dims).requires_grad_(true);
        using var tTarget = torch.tensor(target, dims);

        Console.WriteLine($"## Multi-class: {title}, forward + backward, float32, {shape}, {Environment.ProcessorCount} threads");
        Console.WriteLine();
        Console.WriteLine("| implementation | median ms | min ms | × eager (median) | × eager (min) |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        var eager = QuickMode.MeasureStats(() => Backward(eagerLoss(tPred, tTarget), tPred), minRuns: 5, minSeconds: 2);
        Row("eager TorchSharp (autograd)", eager, eager);
        Row("generated CPU kernel, spans", QuickMode.MeasureStats(() => spans(pred, target, grad, shape), minRuns: 10, minSeconds: 2), eager);
        Row("generated Compute + backward()", QuickMode.MeasureStats(() => Backward(compute(tPred, tTarget), tPred), minRuns: 10, minSeconds: 2), eager);
        Row("generated tensor-op path + backward()", QuickMode.MeasureStats(() => Backward(ops(tPred, tTarget), tPred), minRuns: 5, minSeconds: 2), eager);
        Console.WriteLine();
    }

    /// <summary>
    /// nnU-Net's DC_and_CE_loss as its PyTorch code computes it on one-hot targets: softmax, the foreground channels, sums
    /// over the batch and the spatial axes per class, −the mean Dice, plus the mean cross-entropy.
    /// </summary>
    public static Tensor EagerNnUNet(Tensor pred, Tensor target)
    {
        using var scope = torch.NewDisposeScope();
        long[] axes = pred.Dimensions == 5 ? new long[] { 0, 2, 3, 4 } : new long[] { 0, 2, 3 };
        var p = torch.softmax(pred, 1).narrow(1, 1, pred.shape[1] - 1);
        var t = target.narrow(1, 1, pred.shape[1] - 1);
        var dc = ((2 * (p * t).sum(axes)) + 1e-5) / (t.sum(axes) + p.sum(axes) + 1e-5);
        var ce = -(target * torch.nn.functional.log_softmax(pred, 1)).sum(1).mean();
        return (ce - dc.mean()).MoveToOuterDisposeScope();
    }

    /// <summary>The loss as a PyTorch user writes it with MONAI's defaults: softmax Dice per (n, c), mean, plus mean cross-entropy.</summary>
    public static Tensor Eager(Tensor pred, Tensor target)
    {
        using var scope = torch.NewDisposeScope();
        var p = torch.softmax(pred, 1);
        var inter = (p * target).sum(new long[] { 2, 3 });
        var denom = p.sum(new long[] { 2, 3 }) + target.sum(new long[] { 2, 3 });
        var dice = (1 - (((2 * inter) + 1e-5) / (denom + 1e-5))).mean();
        var ce = -(target * torch.nn.functional.log_softmax(pred, 1)).sum(1).mean();
        return (dice + ce).MoveToOuterDisposeScope();
    }

    private static void Backward(Tensor loss, Tensor pred)
    {
        loss.backward();
        pred.grad!.zero_();
        loss.Dispose();
    }

    private static void Row(string name, QuickMode.Stats s, QuickMode.Stats eager) =>
        Console.WriteLine(string.Create(Inv, $"| {name} | {s.Median:F2} | {s.Min:F2} | {eager.Median / s.Median:F1} | {eager.Min / s.Min:F1} |"));
}
