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
