// The prelude: ready-made loss pieces written in the DSL itself. This file is compiled into LossDsl (so the pieces run
// in the reference interpreter) and embedded in the generator, which inlines these bodies like any user helper.
using static LossDsl.Dsl;

namespace LossDsl;

/// <summary>Ready-made loss pieces written in the DSL; call them from a term (<c>using static LossDsl.Prelude;</c>) or use the built-in term attributes.</summary>
public static class Prelude
{
    /// <summary>
    /// F3Net's boundary weight: <c>1 + gain·|avg_pool2d(mask, kernel, 1, kernel//2) − mask|</c>. Large near the edges of the
    /// mask, 1 in flat regions.
    /// </summary>
    /// <param name="mask">The target mask.</param>
    /// <param name="kernel">Odd pooling window (31 in PraNet).</param>
    /// <param name="gain">Boundary gain (5 in PraNet).</param>
    /// <returns>The weight map.</returns>
    public static Field BoundaryWeight(Target mask, int kernel, double gain) => 1 + (gain * Abs(AvgPool(mask, kernel) - mask));

    /// <summary>Weighted binary cross-entropy with logits: <c>Σ w·bce(pred, mask) / Σ w</c> per plane.</summary>
    /// <param name="pred">The logits.</param>
    /// <param name="mask">The target.</param>
    /// <param name="weight">The per-pixel weights.</param>
    /// <returns>The per-plane loss.</returns>
    public static Plane WeightedBce(Logits pred, Target mask, Field weight) => WeightedMean(BceWithLogits(pred, mask), weight);

    /// <summary>Binary cross-entropy with logits, mean per plane (<c>F.binary_cross_entropy_with_logits(...).mean((2, 3))</c>).</summary>
    /// <param name="pred">The logits.</param>
    /// <param name="mask">The target.</param>
    /// <returns>The per-plane loss.</returns>
    public static Plane Bce(Logits pred, Target mask) => Mean(BceWithLogits(pred, mask));

    /// <summary>
    /// Weighted soft IoU loss: <c>1 − (Σ w·p·t + s) / (Σ w·(p + t) − Σ w·p·t + s)</c> with <c>p = sigmoid(pred)</c>.
    /// </summary>
    /// <param name="pred">The logits.</param>
    /// <param name="mask">The target.</param>
    /// <param name="weight">The per-pixel weights.</param>
    /// <param name="smooth">The smoothing constant.</param>
    /// <returns>The per-plane loss.</returns>
    public static Plane WeightedIoU(Logits pred, Target mask, Field weight, double smooth)
    {
        var p = Sigmoid(pred);
        var inter = Sum(weight * p * mask);
        var union = Sum(weight * (p + mask));
        return 1 - ((inter + smooth) / (union - inter + smooth));
    }

    /// <summary>Soft IoU loss without weights: <c>1 − (Σ p·t + s) / (Σ (p + t) − Σ p·t + s)</c>.</summary>
    /// <param name="pred">The logits.</param>
    /// <param name="mask">The target.</param>
    /// <param name="smooth">The smoothing constant.</param>
    /// <returns>The per-plane loss.</returns>
    public static Plane IoU(Logits pred, Target mask, double smooth)
    {
        var p = Sigmoid(pred);
        var inter = Sum(p * mask);
        var union = Sum(p + mask);
        return 1 - ((inter + smooth) / (union - inter + smooth));
    }

    /// <summary>Soft Dice loss: <c>1 − (2 Σ p·t + s) / (Σ p + Σ t + s)</c> with <c>p = sigmoid(pred)</c>.</summary>
    /// <param name="pred">The logits.</param>
    /// <param name="mask">The target.</param>
    /// <param name="smooth">The smoothing constant.</param>
    /// <returns>The per-plane loss.</returns>
    public static Plane SoftDice(Logits pred, Target mask, double smooth)
    {
        var p = Sigmoid(pred);
        return 1 - (((2 * Sum(p * mask)) + smooth) / (Sum(p) + Sum(mask) + smooth));
    }

    /// <summary>
    /// Binary focal loss (torchvision's <c>sigmoid_focal_loss</c>, mean per plane):
    /// <c>α_t·(1 − p_t)^γ·bce(pred, mask)</c>, <c>p_t = p·t + (1 − p)(1 − t)</c>, <c>α_t = α·t + (1 − α)(1 − t)</c>.
    /// </summary>
    /// <param name="pred">The logits.</param>
    /// <param name="mask">The target.</param>
    /// <param name="alpha">The positive-class balance.</param>
    /// <param name="gamma">The focusing exponent.</param>
    /// <returns>The per-plane loss.</returns>
    public static Plane Focal(Logits pred, Target mask, double alpha, double gamma)
    {
        var p = Sigmoid(pred);
        var pt = (p * mask) + ((1 - p) * (1 - mask));
        var at = (alpha * mask) + ((1 - alpha) * (1 - mask));
        return Mean(at * Pow(1 - pt, gamma) * BceWithLogits(pred, mask));
    }

    /// <summary>Tversky loss: <c>1 − (Σ p·t + s) / (Σ p·t + α Σ p(1 − t) + β Σ (1 − p)t + s)</c>.</summary>
    /// <param name="pred">The logits.</param>
    /// <param name="mask">The target.</param>
    /// <param name="alpha">Weight of false positives.</param>
    /// <param name="beta">Weight of false negatives.</param>
    /// <param name="smooth">The smoothing constant.</param>
    /// <returns>The per-plane loss.</returns>
    public static Plane Tversky(Logits pred, Target mask, double alpha, double beta, double smooth)
    {
        var p = Sigmoid(pred);
        var tp = Sum(p * mask);
        var fp = Sum(p * (1 - mask));
        var fn = Sum((1 - p) * mask);
        return 1 - ((tp + smooth) / (tp + (alpha * fp) + (beta * fn) + smooth));
    }
}
