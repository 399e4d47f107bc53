using System;
using System.Linq;
using ILGPU;
using ILGPU.Runtime;
using LossDsl.Tests;
using Xunit;

namespace LossDsl.Ilgpu.Tests;

/// <summary>The softmax losses' ILGPU kernels (channel loops on the device) against PyTorch (tests/golden/multiclass).</summary>
[Collection(IlgpuCollection.Name)]
public sealed class MultiClassTests(AcceleratorFixture fixture)
{
    private readonly Accelerator _acc = fixture.Accelerator;

    private static string Loss(string name) => name switch
    {
        "ce" => "CrossEntropyLoss",
        "ce_smooth" => "CrossEntropySmoothedLoss",
        "softmax_dice" => "SoftmaxDiceLoss",
        "volume_structure" => "StructureLoss",
        "volume_nnunet_dc_ce" => "NnUNetDiceCELoss",
        "nnunet_dc_ce" => "NnUNetDiceCELoss",
        "nnunet_dc_ce_sample" => "NnUNetSampleDiceCELoss",
        "monai_dice_ce_fg" => "DiceCEForegroundLoss",
        "monai_dice_ce_batch" => "DiceCEBatchLoss",
        "smp_dice" => "SmpDiceLoss",
        "smp_dice_multilabel" => "SmpMultilabelDiceLoss",
        "smp_jaccard" => "SmpJaccardLoss",
        "smp_tversky" => "SmpTverskyLoss",
        "smp_focal" => "SmpFocalLoss",
        _ => "DiceCELoss",
    };

    public static TheoryData<string> Files()
    {
        var data = new TheoryData<string>();
        foreach (var f in MultiClassGolden.Files().Where(f => MultiClassGolden.LossOf(f) is not ("logsumexp_mean" or "volume_structure7")))
        {
            data.Add(f);
        }

        return data;
    }

    [Fact]
    public void GoldenFilesArePresent() => Assert.True(Files().Count >= 45, $"golden files missing in {MultiClassGolden.Directory}");

    [Theory]
    [MemberData(nameof(Files))]
    public void MatchesPyTorch(string file)
    {
        var c = MultiClassGolden.Load(file);
        var (runner, device, _) = Losses.Create(Loss(c.Name), _acc);
        using var _ = runner;
        using var pred = _acc.Allocate1D(Data.ToFloat(c.Pred));
        using var mask = _acc.Allocate1D(Data.ToFloat(c.Mask));
        using var grad = _acc.Allocate1D<float>(c.Pred.Length);
        float loss = device(pred.View, mask.View, grad.View, c.Shape);
        if (c.Loss is not { } expected)
        {
            Assert.True(float.IsNaN(loss));
            return;
        }

        Data.AssertLoss(expected, loss, 1e-5);
        Data.AssertGradient(Data.ToFloat(c.Grad!), grad.GetAsArray1D());
    }
}
