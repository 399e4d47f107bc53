namespace LossDsl;

/// <summary>
/// The default of every attribute option, stated once. This file is compiled into <c>LossDsl</c>, where the
/// attributes take their initial values from it, and into the generator, which assumes these values for an option the
/// user did not set; the two cannot drift apart.
/// </summary>
internal static class AttributeDefaults
{
    /// <summary>A term's factor in the sum of terms.</summary>
    public const double Weight = 1.0;

    /// <summary><c>BoundaryWeight.Kernel</c>: PraNet's 31×31 pooling window.</summary>
    public const int BoundaryKernel = 31;

    /// <summary><c>BoundaryWeight.Gain</c>: PraNet's boundary gain.</summary>
    public const double BoundaryGain = 5.0;

    /// <summary>The smoothing constant of <c>WeightedIoU</c>, <c>SoftDice</c> and <c>Tversky</c>.</summary>
    public const double Smooth = 1.0;

    /// <summary><c>Focal.Gamma</c>: torchvision's focusing exponent.</summary>
    public const double FocalGamma = 2.0;

    /// <summary><c>Focal.Alpha</c>: torchvision's positive-class balance.</summary>
    public const double FocalAlpha = 0.25;

    /// <summary><c>Tversky.Alpha</c>: the weight of false positives.</summary>
    public const double TverskyAlpha = 0.5;

    /// <summary><c>Tversky.Beta</c>: the weight of false negatives.</summary>
    public const double TverskyBeta = 0.5;
}
