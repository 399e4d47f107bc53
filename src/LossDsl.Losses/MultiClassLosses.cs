using static LossDsl.Dsl;

namespace LossDsl.Losses;

/// <summary>
/// PyTorch's <c>F.cross_entropy(input, target)</c> over the channels (classes) of an N×C×H×W batch, with the target given as
/// one-hot rows or class probabilities of the same shape (PyTorch ≥ 1.10 takes both). A pixel whose target row is all zero
/// is ignored: for one-hot targets made from class indices (<c>ignore_index</c> rows left zero) this is
/// <c>cross_entropy(input, labels, ignore_index=…)</c> exactly, mean over the labelled pixels; with probability targets
/// (rows summing to 1) it is the mean over every pixel. A batch with no labelled pixel gives NaN, as PyTorch does.
/// Loss = Σ −t·log_softmax(x) / Σ t.
/// </summary>
[Loss]
public static partial class CrossEntropyLoss
{
    [Term]
    private static Batch Ce(Logits pred, Target target) => BatchSum(-target * LogSoftmax(pred)) / BatchSum(target);
}

/// <summary>
/// PyTorch's <c>F.cross_entropy(input, labels, label_smoothing=0.1)</c> with the labels given one-hot (ignored pixels as
/// zero rows): each labelled pixel's loss is (1 − ε)·(−log p_label) + ε·mean_c(−log p_c), the mean over labelled pixels.
/// Written as Σ_c t_c·(…) per pixel, which equals PyTorch's formula wherever a target row sums to 1 (or 0 when ignored).
/// </summary>
[Loss]
public static partial class CrossEntropySmoothedLoss
{
    [Term]
    private static Batch Ce(Logits pred, Target target)
    {
        var logp = LogSoftmax(pred);
        return BatchSum(-target * ((0.9 * logp) + (0.1 * MeanOverChannels(logp)))) / BatchSum(target);
    }
}

/// <summary>
/// MONAI's <c>DiceLoss(softmax=True)</c> with its defaults (<c>include_background=True</c>, <c>batch=False</c>,
/// <c>squared_pred=False</c>, <c>smooth_nr = smooth_dr = 1e-5</c>, <c>reduction='mean'</c>) on one-hot targets:
/// p = softmax over channels, per (n, c) plane 1 − (2Σ p·t + 1e-5)/(Σ p + Σ t + 1e-5), the mean over the N×C planes.
/// </summary>
[Loss]
public static partial class SoftmaxDiceLoss
{
    [Term]
    private static Plane Dice(Logits pred, Target target)
    {
        var p = Softmax(pred);
        return 1 - (((2 * Sum(p * target)) + 1e-5) / (Sum(p) + Sum(target) + 1e-5));
    }
}

/// <summary>
/// MONAI's <c>DiceCELoss(softmax=True)</c> with its defaults (<c>lambda_dice = lambda_ce = 1</c>, Dice as
/// <see cref="SoftmaxDiceLoss"/>) on one-hot targets: the Dice mean over the N×C planes plus the cross-entropy mean over
/// the N×H×W pixels.
/// </summary>
[Loss]
public static partial class DiceCELoss
{
    [Term]
    private static Plane Dice(Logits pred, Target target)
    {
        var p = Softmax(pred);
        return 1 - (((2 * Sum(p * target)) + 1e-5) / (Sum(p) + Sum(target) + 1e-5));
    }

    [Term]
    private static Batch Ce(Logits pred, Target target) => BatchSum(-target * LogSoftmax(pred)) / BatchSum(target);
}

/// <summary>
/// nnU-Net's default loss, <c>DC_and_CE_loss</c> (nnU-Net v2, <c>nnunetv2/training/loss/compound_losses.py</c> with
/// <c>MemoryEfficientSoftDiceLoss</c>), as its trainer builds it for the 2-D and 3-D full-resolution configurations:
/// <c>batch_dice=True</c>, <c>do_bg=False</c>, <c>smooth=1e-5</c>, softmax over channels, <c>weight_ce = weight_dice = 1</c>,
/// no ignore label. The Dice part is −mean over the foreground classes of (2 Σ p·t + 1e-5) / (Σ t + Σ p + 1e-5), each sum
/// over the whole batch (nnU-Net's Dice loss is the negative Dice, not 1 − Dice); the CE part is the mean cross-entropy
/// over the N·H·W pixels. Targets one-hot (N×C×H×W). nnU-Net clips the denominator at 1e-8, which the smoothing term
/// already exceeds. With a single channel the Dice covers it (nnU-Net always has a background and a foreground class).
/// </summary>
[Loss]
public static partial class NnUNetDiceCELoss
{
    [Term(IncludeBackground = false)]
    private static Plane Dice(Logits pred, Target target)
    {
        var p = Softmax(pred);
        return -((2 * ClassSum(p * target)) + 1e-5) / (ClassSum(target) + ClassSum(p) + 1e-5);
    }

    [Term]
    private static Batch Ce(Logits pred, Target target) => BatchSum(-target * LogSoftmax(pred)) / BatchSum(target);
}

/// <summary>
/// <see cref="NnUNetDiceCELoss"/> with <c>batch_dice=False</c> (nnU-Net's 3-D low-resolution configuration): one Dice per
/// image and foreground class, −their mean, plus the mean cross-entropy.
/// </summary>
[Loss]
public static partial class NnUNetSampleDiceCELoss
{
    [Term(IncludeBackground = false)]
    private static Plane Dice(Logits pred, Target target)
    {
        var p = Softmax(pred);
        return -((2 * Sum(p * target)) + 1e-5) / (Sum(target) + Sum(p) + 1e-5);
    }

    [Term]
    private static Batch Ce(Logits pred, Target target) => BatchSum(-target * LogSoftmax(pred)) / BatchSum(target);
}

/// <summary>
/// MONAI's <c>DiceCELoss(softmax=True, include_background=False)</c> (MONAI 1.x, other options at their defaults): the
/// softmax over every channel, the Dice loss 1 − (2 Σ p·t + 1e-5)/(Σ p + Σ t + 1e-5) per image and foreground channel,
/// their mean, plus the cross-entropy over all channels, mean over N·H·W (MONAI applies <c>include_background</c> to the
/// Dice only). With a single channel the option has no effect, as in MONAI. Targets one-hot.
/// </summary>
[Loss]
public static partial class DiceCEForegroundLoss
{
    [Term(IncludeBackground = false)]
    private static Plane Dice(Logits pred, Target target)
    {
        var p = Softmax(pred);
        return 1 - (((2 * Sum(p * target)) + 1e-5) / (Sum(p) + Sum(target) + 1e-5));
    }

    [Term]
    private static Batch Ce(Logits pred, Target target) => BatchSum(-target * LogSoftmax(pred)) / BatchSum(target);
}

/// <summary>
/// MONAI's <c>DiceCELoss(softmax=True, batch=True)</c>: one Dice per channel with every sum over the whole batch
/// (1 − (2 Σ p·t + 1e-5)/(Σ p + Σ t + 1e-5)), their mean over the channels, plus the mean cross-entropy. Targets one-hot.
/// </summary>
[Loss]
public static partial class DiceCEBatchLoss
{
    [Term]
    private static Plane Dice(Logits pred, Target target)
    {
        var p = Softmax(pred);
        return 1 - (((2 * ClassSum(p * target)) + 1e-5) / (ClassSum(p) + ClassSum(target) + 1e-5));
    }

    [Term]
    private static Batch Ce(Logits pred, Target target) => BatchSum(-target * LogSoftmax(pred)) / BatchSum(target);
}

/// <summary>
/// segmentation_models_pytorch's <c>DiceLoss(mode='multiclass')</c> with its defaults (<c>smooth=0</c>, <c>eps=1e-7</c>,
/// <c>from_logits=True</c>, <c>log_loss=False</c>): p = softmax over channels, per channel over the whole batch
/// (<c>dims=(0, 2)</c>) 1 − 2 Σ p·t / max(Σ (p + t), 1e-7), zero for a channel with no target pixel in the batch, the mean
/// over the channels. Targets one-hot (smp's integer labels, expanded).
/// </summary>
[Loss]
public static partial class SmpDiceLoss
{
    [Term]
    private static Plane Dice(Logits pred, Target target)
    {
        var p = Softmax(pred);
        return (1 - (2 * ClassSum(p * target) / Clamp(ClassSum(p + target), 1e-7, 3e38))) * Greater(ClassSum(target), 0);
    }
}

/// <summary>
/// segmentation_models_pytorch's <c>DiceLoss(mode='multilabel')</c>: as <see cref="SmpDiceLoss"/> with p = sigmoid of each
/// channel's logit (independent labels per channel) and targets of 0s and 1s per channel.
/// </summary>
[Loss]
public static partial class SmpMultilabelDiceLoss
{
    [Term]
    private static Plane Dice(Logits pred, Target target)
    {
        var p = Sigmoid(pred);
        return (1 - (2 * ClassSum(p * target) / Clamp(ClassSum(p + target), 1e-7, 3e38))) * Greater(ClassSum(target), 0);
    }
}

/// <summary>
/// segmentation_models_pytorch's <c>JaccardLoss(mode='multiclass')</c> with its defaults (<c>smooth=0</c>, <c>eps=1e-7</c>):
/// per channel over the batch 1 − Σ p·t / max(Σ (p + t) − Σ p·t, 1e-7), zero for a channel with no target pixel, the mean
/// over the channels; p = softmax. Targets one-hot.
/// </summary>
[Loss]
public static partial class SmpJaccardLoss
{
    [Term]
    private static Plane Jaccard(Logits pred, Target target)
    {
        var p = Softmax(pred);
        var intersection = ClassSum(p * target);
        return (1 - (intersection / Clamp(ClassSum(p + target) - intersection, 1e-7, 3e38))) * Greater(ClassSum(target), 0);
    }
}

/// <summary>
/// segmentation_models_pytorch's <c>TverskyLoss(mode='multiclass')</c> with its defaults (<c>alpha = beta = 0.5</c>,
/// <c>gamma=1</c>, <c>smooth=0</c>, <c>eps=1e-7</c>): per channel over the batch
/// 1 − TP / max(TP + α·FP + β·FN, 1e-7) with TP = Σ p·t, FP = Σ p·(1 − t), FN = Σ (1 − p)·t, zero for a channel with no
/// target pixel, the mean over the channels; p = softmax. Targets one-hot.
/// </summary>
[Loss]
public static partial class SmpTverskyLoss
{
    [Term]
    private static Plane Tversky(Logits pred, Target target)
    {
        var p = Softmax(pred);
        var tp = ClassSum(p * target);
        var denominator = tp + (0.5 * ClassSum(p * (1 - target))) + (0.5 * ClassSum((1 - p) * target));
        return (1 - (tp / Clamp(denominator, 1e-7, 3e38))) * Greater(ClassSum(target), 0);
    }
}

/// <summary>
/// segmentation_models_pytorch's <c>FocalLoss(mode='multiclass')</c> with its defaults (<c>gamma=2</c>, <c>alpha=None</c>,
/// <c>normalized=False</c>): for each channel the binary focal loss of its logit against "this class",
/// (1 − e^(−bce))^γ · bce, mean over the N·H·W pixels; the losses of the channels summed. Targets one-hot.
/// </summary>
[Loss]
public static partial class SmpFocalLoss
{
    [Term]
    private static Plane Focal(Logits pred, Target target)
    {
        var bce = BceWithLogits(pred, target);
        return BatchSum(Square(1 - Exp(-bce)) * bce) / ClassCount(pred);
    }
}
