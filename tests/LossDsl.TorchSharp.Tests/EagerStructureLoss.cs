// Eager TorchSharp reference implementations of the PraNet / F3Net "structure loss".
//
// PraNet (https://github.com/DengPingFan/PraNet, train.py):
//     weit  = 1 + 5*torch.abs(F.avg_pool2d(mask, kernel_size=31, stride=1, padding=15) - mask)
//     wbce  = F.binary_cross_entropy_with_logits(pred, mask, reduce='none')
//     wbce  = (weit*wbce).sum(dim=(2, 3)) / weit.sum(dim=(2, 3))
//     pred  = torch.sigmoid(pred)
//     inter = ((pred * mask)*weit).sum(dim=(2, 3))
//     union = ((pred + mask)*weit).sum(dim=(2, 3))
//     wiou  = 1 - (inter + 1)/(union - inter+1)
//     return (wbce + wiou).mean()
//
// `reduce='none'` is the legacy (deprecated) boolean argument; the string 'none' is truthy, so
// PyTorch resolves the reduction to 'mean' and `wbce` is the scalar mean BCE over the whole batch.
// The weighting `(weit*wbce).sum/weit.sum` then divides out and the BCE term collapses to the
// batch-mean BCE, broadcast to every (N,C) plane. F3Net's intent (reduction='none') is a per-pixel
// BCE weighted per plane. `Weighted` implements the intent, `PraNet` reproduces the published code.
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace LossDsl.TorchSharp.Tests;

public static class EagerStructureLoss
{
    /// <summary>Pixel weights 1 + gain*|avg_pool2d(mask, k, stride 1, pad k/2) - mask|, shape of mask.</summary>
    public static Tensor Weights(Tensor mask, int kernel = 31, double gain = 5)
    {
        using var pooled = F.avg_pool2d(mask, kernel, stride: 1, padding: kernel / 2);
        using var diff = pooled - mask;
        using var absDiff = diff.abs();
        using var scaled = absDiff * gain;
        return scaled + 1.0;
    }

    /// <summary>Weighted IoU term per (N,C) plane: 1 - (inter + smooth)/(union - inter + smooth).</summary>
    static Tensor WeightedIoU(Tensor pred, Tensor mask, Tensor weit, double smooth)
    {
        var dims = new long[] { 2, 3 };
        using var p = torch.sigmoid(pred);
        using var pm = p * mask;
        using var pmw = pm * weit;
        using var inter = pmw.sum(dims);
        using var ppm = p + mask;
        using var ppmw = ppm * weit;
        using var union = ppmw.sum(dims);
        using var num = inter + smooth;
        using var ui = union - inter;
        using var den = ui + smooth;
        using var ratio = num / den;
        return 1.0 - ratio;
    }

    /// <summary>
    /// F3Net-intended structure loss: per-pixel BCE-with-logits weighted per (N,C) plane plus the
    /// weighted IoU term, returning the scalar mean over (N,C) of (wbce + wiou).
    /// </summary>
    public static Tensor Weighted(Tensor pred, Tensor mask, int kernel = 31, double gain = 5, double smooth = 1)
    {
        using var planes = WeightedPlanes(pred, mask, kernel, gain, smooth);
        return planes.mean();
    }

    /// <summary>The per-(N,C) plane losses (wbce + wiou) of <see cref="Weighted"/>, shape N x C.</summary>
    public static Tensor WeightedPlanes(Tensor pred, Tensor mask, int kernel = 31, double gain = 5, double smooth = 1)
    {
        var dims = new long[] { 2, 3 };
        using var weit = Weights(mask, kernel, gain);
        using var bce = F.binary_cross_entropy_with_logits(pred, mask, reduction: nn.Reduction.None);
        using var wb = weit * bce;
        using var wbSum = wb.sum(dims);
        using var wSum = weit.sum(dims);
        using var wbce = wbSum / wSum;
        using var wiou = WeightedIoU(pred, mask, weit, smooth);
        return wbce + wiou;
    }

    /// <summary>
    /// PraNet's published structure loss: the BCE term is the scalar batch-mean BCE (legacy truthy
    /// <c>reduce='none'</c>), "weighted" per plane (which divides out); the IoU term is weighted per plane.
    /// Returns the scalar mean over (N,C) of (wbce + wiou).
    /// </summary>
    public static Tensor PraNet(Tensor pred, Tensor mask, int kernel = 31, double gain = 5, double smooth = 1)
    {
        using var planes = PraNetPlanes(pred, mask, kernel, gain, smooth);
        return planes.mean();
    }

    /// <summary>The per-(N,C) plane losses (wbce + wiou) of <see cref="PraNet"/>, shape N x C.</summary>
    public static Tensor PraNetPlanes(Tensor pred, Tensor mask, int kernel = 31, double gain = 5, double smooth = 1)
    {
        var dims = new long[] { 2, 3 };
        using var weit = Weights(mask, kernel, gain);
        using var bceMean = F.binary_cross_entropy_with_logits(pred, mask, reduction: nn.Reduction.Mean); // scalar
        using var wb = weit * bceMean;
        using var wbSum = wb.sum(dims);
        using var wSum = weit.sum(dims);
        using var wbce = wbSum / wSum; // == bceMean on every (N,C) plane, up to rounding
        using var wiou = WeightedIoU(pred, mask, weit, smooth);
        return wbce + wiou;
    }
}
