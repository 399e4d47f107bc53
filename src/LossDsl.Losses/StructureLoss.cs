using static LossDsl.Dsl;

namespace LossDsl.Losses;

/// <summary>
/// The F3Net / PraNet structure loss as its authors intend it: boundary-weighted BCE plus weighted IoU, per image,
/// averaged over the batch. The weight is <c>1 + 5·|avg_pool2d(mask, 31) − mask|</c>.
/// </summary>
[Loss]
public static partial class StructureLoss
{
    private static Field Weight(Target mask) => 1 + (5 * Abs(AvgPool(mask, 31) - mask));

    [Term]
    private static Plane Bce(Logits pred, Target mask) => WeightedMean(BceWithLogits(pred, mask), Weight(mask));

    [Term]
    private static Plane IoU(Logits pred, Target mask)
    {
        var w = Weight(mask);
        var p = Sigmoid(pred);
        var inter = Sum(w * p * mask);
        var union = Sum(w * (p + mask));
        return 1 - ((inter + 1) / (union - inter + 1));
    }
}

/// <summary>
/// The structure loss as PraNet's published code computes it: <c>binary_cross_entropy_with_logits(pred, mask,
/// reduce='none')</c> passes a truthy string to the legacy <c>reduce</c> flag, so the "weighted" BCE is the unweighted
/// mean BCE over the whole batch; only the IoU term is boundary-weighted.
/// </summary>
[Loss]
public static partial class PraNetStructureLoss
{
    [Term]
    private static Batch Bce(Logits pred, Target mask) => BatchMean(BceWithLogits(pred, mask));

    [Term]
    private static Plane IoU(Logits pred, Target mask) => Prelude.WeightedIoU(pred, mask, Prelude.BoundaryWeight(mask, 31, 5), 1);
}

/// <summary>The structure loss in attribute form; lowers to the same schedule as <see cref="StructureLoss"/>.</summary>
[Loss, BoundaryWeight(Kernel = 31, Gain = 5), WeightedBce, WeightedIoU(Smooth = 1)]
public static partial class StructureLossAttributes;

/// <summary>Soft Dice loss, mean over planes.</summary>
[Loss, SoftDice(Smooth = 1)]
public static partial class DiceLoss;

/// <summary>Binary focal loss (α = 0.25, γ = 2) plus soft Dice: a common compound loss for small structures.</summary>
[Loss, Focal(Alpha = 0.25, Gamma = 2), SoftDice(Smooth = 1)]
public static partial class FocalDiceLoss;

/// <summary>Tversky loss with α = 0.3, β = 0.7 (weighs false negatives more).</summary>
[Loss, Tversky(Alpha = 0.3, Beta = 0.7, Smooth = 1)]
public static partial class TverskyLoss;
