using System;
using System.Collections.Generic;
using System.Linq;
using LossDsl.Losses;
using LossDsl.Tests;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LossDsl.TorchSharp.Tests;

/// <summary>
/// The ready-made multi-class losses (cross-entropy, label smoothing, MONAI's softmax Dice and DiceCE with their
/// include_background and batch options, nnU-Net's DC_and_CE_loss, smp's multiclass and multilabel losses) and the channel
/// reduction itself against PyTorch (tests/golden/multiclass): the fused CPU kernel on spans in float64 and float32, the
/// reference interpreter, and both TorchSharp paths (the kernel for CPU tensors, the tensor-op path) through backward().
/// </summary>
public sealed class MultiClassTests
{
    private delegate double Span64(ReadOnlySpan<double> pred, ReadOnlySpan<double> target, Span<double> grad, LossShape shape);

    private delegate float Span32(ReadOnlySpan<float> pred, ReadOnlySpan<float> target, Span<float> grad, LossShape shape);

    private sealed record Backends(Span32 Cpu32, Span64 Cpu64, Func<Logits, Target, double> Reference, LossFn Kernel, LossFn Ops);

    private static Backends Of(string name) => name switch
    {
        "ce" => new(CrossEntropyLoss.Cpu.Compute, CrossEntropyLoss.Cpu.Compute, CrossEntropyLoss.Reference.Compute, CrossEntropyLoss.Compute, CrossEntropyLoss.TorchOps.Compute),
        "ce_smooth" => new(CrossEntropySmoothedLoss.Cpu.Compute, CrossEntropySmoothedLoss.Cpu.Compute, CrossEntropySmoothedLoss.Reference.Compute, CrossEntropySmoothedLoss.Compute, CrossEntropySmoothedLoss.TorchOps.Compute),
        "softmax_dice" => new(SoftmaxDiceLoss.Cpu.Compute, SoftmaxDiceLoss.Cpu.Compute, SoftmaxDiceLoss.Reference.Compute, SoftmaxDiceLoss.Compute, SoftmaxDiceLoss.TorchOps.Compute),
        "dice_ce" => new(DiceCELoss.Cpu.Compute, DiceCELoss.Cpu.Compute, DiceCELoss.Reference.Compute, DiceCELoss.Compute, DiceCELoss.TorchOps.Compute),
        "nnunet_dc_ce" => new(NnUNetDiceCELoss.Cpu.Compute, NnUNetDiceCELoss.Cpu.Compute, NnUNetDiceCELoss.Reference.Compute, NnUNetDiceCELoss.Compute, NnUNetDiceCELoss.TorchOps.Compute),
        "nnunet_dc_ce_sample" => new(NnUNetSampleDiceCELoss.Cpu.Compute, NnUNetSampleDiceCELoss.Cpu.Compute, NnUNetSampleDiceCELoss.Reference.Compute, NnUNetSampleDiceCELoss.Compute, NnUNetSampleDiceCELoss.TorchOps.Compute),
        "monai_dice_ce_fg" => new(DiceCEForegroundLoss.Cpu.Compute, DiceCEForegroundLoss.Cpu.Compute, DiceCEForegroundLoss.Reference.Compute, DiceCEForegroundLoss.Compute, DiceCEForegroundLoss.TorchOps.Compute),
        "monai_dice_ce_batch" => new(DiceCEBatchLoss.Cpu.Compute, DiceCEBatchLoss.Cpu.Compute, DiceCEBatchLoss.Reference.Compute, DiceCEBatchLoss.Compute, DiceCEBatchLoss.TorchOps.Compute),
        "smp_dice" => new(SmpDiceLoss.Cpu.Compute, SmpDiceLoss.Cpu.Compute, SmpDiceLoss.Reference.Compute, SmpDiceLoss.Compute, SmpDiceLoss.TorchOps.Compute),
        "smp_dice_multilabel" => new(SmpMultilabelDiceLoss.Cpu.Compute, SmpMultilabelDiceLoss.Cpu.Compute, SmpMultilabelDiceLoss.Reference.Compute, SmpMultilabelDiceLoss.Compute, SmpMultilabelDiceLoss.TorchOps.Compute),
        "smp_jaccard" => new(SmpJaccardLoss.Cpu.Compute, SmpJaccardLoss.Cpu.Compute, SmpJaccardLoss.Reference.Compute, SmpJaccardLoss.Compute, SmpJaccardLoss.TorchOps.Compute),
        "smp_tversky" => new(SmpTverskyLoss.Cpu.Compute, SmpTverskyLoss.Cpu.Compute, SmpTverskyLoss.Reference.Compute, SmpTverskyLoss.Compute, SmpTverskyLoss.TorchOps.Compute),
        "smp_focal" => new(SmpFocalLoss.Cpu.Compute, SmpFocalLoss.Cpu.Compute, SmpFocalLoss.Reference.Compute, SmpFocalLoss.Compute, SmpFocalLoss.TorchOps.Compute),
        "volume_structure" => new(StructureLoss.Cpu.Compute, StructureLoss.Cpu.Compute, StructureLoss.Reference.Compute, StructureLoss.Compute, StructureLoss.TorchOps.Compute),
        "volume_structure7" => new(StructureLoss7.Cpu.Compute, StructureLoss7.Cpu.Compute, StructureLoss7.Reference.Compute, StructureLoss7.Compute, StructureLoss7.TorchOps.Compute),
        "volume_nnunet_dc_ce" => new(NnUNetDiceCELoss.Cpu.Compute, NnUNetDiceCELoss.Cpu.Compute, NnUNetDiceCELoss.Reference.Compute, NnUNetDiceCELoss.Compute, NnUNetDiceCELoss.TorchOps.Compute),
        "logsumexp_mean" => new(ChannelLogSumExp.Cpu.Compute, ChannelLogSumExp.Cpu.Compute, ChannelLogSumExp.Reference.Compute, ChannelLogSumExp.Compute, ChannelLogSumExp.TorchOps.Compute),
        _ => throw new ArgumentException("no loss for " + name),
    };

    public static IEnumerable<object[]> Files() => MultiClassGolden.Files().Select(f => new object[] { f });

    public static IEnumerable<object[]> TensorCases() =>
        MultiClassGolden.Files().SelectMany(f => new[] { ScalarType.Float32, ScalarType.Float64 }.SelectMany(d =>
            new[] { false, true }.Select(ops => new object[] { f, d, ops })));

    [Fact]
    public void EveryLossHasGoldenFiles()
    {
        var names = MultiClassGolden.Files().Select(MultiClassGolden.LossOf).Distinct().ToList();
        Assert.All(MultiClassGolden.Names, n => Assert.Contains(n, names));
        Assert.True(MultiClassGolden.Files().Count() >= 50);
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void SpansMatchPyTorch(string file)
    {
        var c = MultiClassGolden.Load(file);
        var b = Of(c.Name);
        var g64 = new double[c.Shape.Length];
        double loss = b.Cpu64(c.Pred, c.Mask, g64, c.Shape);
        double reference = b.Reference(new Logits(c.Shape, c.Pred), new Target(c.Shape, c.Mask));
        var g32 = new float[c.Shape.Length];
        float loss32 = b.Cpu32(Array.ConvertAll(c.Pred, v => (float)v), Array.ConvertAll(c.Mask, v => (float)v), g32, c.Shape);
        if (c.Loss is not { } expected)
        {
            // Every pixel ignored: PyTorch's 0/0.
            Assert.True(double.IsNaN(loss) && double.IsNaN(reference) && float.IsNaN(loss32), $"{loss}, {reference}, {loss32}");
            return;
        }

        Paths.Close(new[] { expected }, new[] { loss }, 1e-10, "loss64");
        Paths.Close(new[] { expected }, new[] { reference }, 1e-10, "reference");
        Paths.Close(c.Grad!, g64, 1e-10, "grad64");
        Paths.Close(new[] { expected }, new[] { (double)loss32 }, 1e-5, "loss32");
        // float32: within 1e-4 of the largest gradient (1e-2 of a floor at 1% of it), as the other float32 gradient checks.
        Paths.Close(c.Grad!, g32.Select(v => (double)v).ToArray(), 1e-2, "grad32");
    }

    [Theory]
    [MemberData(nameof(TensorCases))]
    public void TensorsMatchPyTorchThroughBackward(string file, ScalarType dtype, bool tensorOps)
    {
        var c = MultiClassGolden.Load(file);
        var b = Of(c.Name);
        var f = tensorOps ? b.Ops : b.Kernel;
        long[] shape = c.Dims;
        using var scope = torch.NewDisposeScope();
        var pred = torch.tensor(c.Pred, shape, dtype).requires_grad_(true);
        var target = torch.tensor(c.Mask, shape, dtype);
        var loss = f(pred, target);
        Assert.Equal(dtype, loss.dtype);
        double value = loss.to(ScalarType.Float64).item<double>();
        if (c.Loss is not { } expected)
        {
            Assert.True(double.IsNaN(value));
            return;
        }

        loss.backward();
        double rtol = dtype == ScalarType.Float32 ? 1e-5 : 1e-9;
        Paths.Close(new[] { expected }, new[] { value }, rtol, "loss");
        Paths.Close(c.Grad!, Paths.Values(pred.grad!), dtype == ScalarType.Float32 ? 1e-2 : 1e-9, "grad");
    }
}
