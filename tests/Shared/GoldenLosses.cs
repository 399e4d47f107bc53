using static LossDsl.Dsl;

namespace LossDsl.Tests;

// The structure loss with the parameters of each golden case (tests/golden/README.md), in both forms: the intended
// per-pixel weighted BCE ("weighted") and PraNet's published code, whose BCE is a batch mean ("pranet"). Linked into
// every test project that compares with the golden files, so each project's generator run emits its own backends.

/// <summary>Weighted structure loss, k = 31, gain 5, smooth 1 (PraNet's parameters).</summary>
[Loss, BoundaryWeight(Kernel = 31, Gain = 5), WeightedBce, WeightedIoU(Smooth = 1)]
public static partial class WeightedK31;

/// <summary>PraNet's published form, k = 31, gain 5, smooth 1.</summary>
[Loss]
public static partial class PraNetK31
{
    [Term]
    private static Batch Bce(Logits pred, Target mask) => BatchMean(BceWithLogits(pred, mask));

    [Term]
    private static Plane IoU(Logits pred, Target mask) => Prelude.WeightedIoU(pred, mask, Prelude.BoundaryWeight(mask, 31, 5), 1);
}

/// <summary>Weighted structure loss, k = 3, gain 2, smooth ½.</summary>
[Loss, BoundaryWeight(Kernel = 3, Gain = 2), WeightedBce, WeightedIoU(Smooth = 0.5)]
public static partial class WeightedK3;

/// <summary>PraNet's published form, k = 3, gain 2, smooth ½.</summary>
[Loss]
public static partial class PraNetK3
{
    [Term]
    private static Batch Bce(Logits pred, Target mask) => BatchMean(BceWithLogits(pred, mask));

    [Term]
    private static Plane IoU(Logits pred, Target mask) => Prelude.WeightedIoU(pred, mask, Prelude.BoundaryWeight(mask, 3, 2), 0.5);
}

/// <summary>Weighted structure loss, k = 5, gain 5, smooth 1.</summary>
[Loss, BoundaryWeight(Kernel = 5, Gain = 5), WeightedBce, WeightedIoU(Smooth = 1)]
public static partial class WeightedK5;

/// <summary>PraNet's published form, k = 5, gain 5, smooth 1.</summary>
[Loss]
public static partial class PraNetK5
{
    [Term]
    private static Batch Bce(Logits pred, Target mask) => BatchMean(BceWithLogits(pred, mask));

    [Term]
    private static Plane IoU(Logits pred, Target mask) => Prelude.WeightedIoU(pred, mask, Prelude.BoundaryWeight(mask, 5, 5), 1);
}
