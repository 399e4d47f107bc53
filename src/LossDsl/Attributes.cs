using System;

namespace LossDsl;

/// <summary>How the per-(n, c) plane losses are reduced to the value a backend returns.</summary>
public enum Reduction
{
    /// <summary>The mean over the N×C planes (PyTorch's <c>reduction='mean'</c>; the default).</summary>
    Mean = 0,

    /// <summary>The sum over the N×C planes (<c>reduction='sum'</c>).</summary>
    Sum = 1,

    /// <summary>No reduction: one loss per (n, c) plane (<c>reduction='none'</c>).</summary>
    None = 2,
}

/// <summary>The code generators a loss asks for.</summary>
[Flags]
public enum Backends
{
    /// <summary>Every backend whose runtime the compilation references (the default).</summary>
    Auto = 0,

    /// <summary>Plain vectorised, multi-threaded C# (<c>L.Cpu</c>). Always available.</summary>
    Cpu = 1,

    /// <summary>TorchSharp autograd integration (<c>L.Compute(Tensor, ...)</c>); needs <c>LossDsl.TorchSharp</c>.</summary>
    TorchSharp = 2,

    /// <summary>ILGPU kernels (<c>L.Ilgpu</c>); needs <c>LossDsl.Ilgpu</c>.</summary>
    Ilgpu = 4,
}

/// <summary>
/// Declares a loss: put it on a <c>static partial class</c> whose <see cref="TermAttribute"/> methods (or built-in term
/// attributes such as <see cref="WeightedBceAttribute"/>) define the per-plane terms. The generator emits the fused forward
/// and backward code for each backend into the same class.
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class LossAttribute : Attribute
{
    /// <summary>How plane losses are reduced (PyTorch's <c>reduction</c>); <see cref="LossDsl.Reduction.Mean"/> by default.</summary>
    public Reduction Reduction { get; set; } = Reduction.Mean;

    /// <summary>Which backends to generate; <see cref="LossDsl.Backends.Auto"/> emits every backend whose runtime is referenced.</summary>
    public Backends Backends { get; set; } = Backends.Auto;
}

/// <summary>
/// Marks a static method of a <see cref="LossAttribute"/> class as a term. It takes <see cref="Logits"/> and
/// <see cref="Target"/> parameters and returns a <see cref="Plane"/> (one value per image and channel) or a
/// <see cref="Batch"/> value (broadcast to every plane). The loss of a plane is the weighted sum of its terms.
/// </summary>
[AttributeUsage(AttributeTargets.Method, Inherited = false)]
public sealed class TermAttribute : Attribute
{
    /// <summary>The factor this term is multiplied by in the sum of terms; 1 by default.</summary>
    public double Weight { get; set; } = AttributeDefaults.Weight;

    /// <summary>
    /// False to leave channel 0 (the background class) out of this term: MONAI's <c>include_background=False</c>, nnU-Net's
    /// <c>do_bg=False</c>. The term adds nothing to the background planes, and under <see cref="Reduction.Mean"/> it is
    /// averaged over the N·(C − 1) other planes. With a single channel there is no background to leave out and the option
    /// has no effect (as in MONAI). True by default.
    /// </summary>
    public bool IncludeBackground { get; set; } = true;
}

/// <summary>
/// Built-in term sugar: a boundary weight map <c>1 + Gain·|AvgPool(target, Kernel) − target|</c> (F3Net), used by
/// <see cref="WeightedBceAttribute"/> and <see cref="WeightedIoUAttribute"/> on the same class. Without it those terms are unweighted.
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class BoundaryWeightAttribute : Attribute
{
    /// <summary>Odd pooling window size; 31 by default (PraNet).</summary>
    public int Kernel { get; set; } = AttributeDefaults.BoundaryKernel;

    /// <summary>Weight gain at boundaries; 5 by default (PraNet).</summary>
    public double Gain { get; set; } = AttributeDefaults.BoundaryGain;
}

/// <summary>
/// Built-in term: the (boundary-)weighted binary cross-entropy with logits, <c>Σ w·bce(pred, target) / Σ w</c> per plane.
/// Inputs are named <c>pred</c> and <c>mask</c>.
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class WeightedBceAttribute : Attribute
{
    /// <summary>The factor of this term in the sum of terms; 1 by default.</summary>
    public double Weight { get; set; } = AttributeDefaults.Weight;
}

/// <summary>
/// Built-in term: the (boundary-)weighted soft IoU loss <c>1 − (Σ w·p·t + s) / (Σ w·(p + t) − Σ w·p·t + s)</c>, with <c>p = sigmoid(pred)</c>.
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class WeightedIoUAttribute : Attribute
{
    /// <summary>The smoothing constant <c>s</c>; 1 by default (PraNet).</summary>
    public double Smooth { get; set; } = AttributeDefaults.Smooth;

    /// <summary>The factor of this term in the sum of terms; 1 by default.</summary>
    public double Weight { get; set; } = AttributeDefaults.Weight;
}

/// <summary>Built-in term: the soft Dice loss <c>1 − (2 Σ p·t + s) / (Σ p + Σ t + s)</c> per plane, <c>p = sigmoid(pred)</c>.</summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class SoftDiceAttribute : Attribute
{
    /// <summary>The smoothing constant <c>s</c>; 1 by default.</summary>
    public double Smooth { get; set; } = AttributeDefaults.Smooth;

    /// <summary>The factor of this term in the sum of terms; 1 by default.</summary>
    public double Weight { get; set; } = AttributeDefaults.Weight;
}

/// <summary>
/// Built-in term: the binary focal loss (torchvision's <c>sigmoid_focal_loss</c>, mean per plane):
/// <c>α_t (1 − p_t)^γ · bce(pred, target)</c> with <c>p_t = p·t + (1 − p)(1 − t)</c>, <c>α_t = α·t + (1 − α)(1 − t)</c>.
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class FocalAttribute : Attribute
{
    /// <summary>The focusing exponent γ; 2 by default.</summary>
    public double Gamma { get; set; } = AttributeDefaults.FocalGamma;

    /// <summary>The positive-class balance α; 0.25 by default.</summary>
    public double Alpha { get; set; } = AttributeDefaults.FocalAlpha;

    /// <summary>The factor of this term in the sum of terms; 1 by default.</summary>
    public double Weight { get; set; } = AttributeDefaults.Weight;
}

/// <summary>Built-in term: the Tversky loss <c>1 − (Σ p·t + s) / (Σ p·t + α Σ p(1 − t) + β Σ (1 − p)t + s)</c>.</summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class TverskyAttribute : Attribute
{
    /// <summary>Weight of false positives; 0.5 by default.</summary>
    public double Alpha { get; set; } = AttributeDefaults.TverskyAlpha;

    /// <summary>Weight of false negatives; 0.5 by default.</summary>
    public double Beta { get; set; } = AttributeDefaults.TverskyBeta;

    /// <summary>The smoothing constant <c>s</c>; 1 by default.</summary>
    public double Smooth { get; set; } = AttributeDefaults.Smooth;

    /// <summary>The factor of this term in the sum of terms; 1 by default.</summary>
    public double Weight { get; set; } = AttributeDefaults.Weight;
}
