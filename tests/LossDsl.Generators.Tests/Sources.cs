namespace LossDsl.Generators.Tests;

/// <summary>Loss declarations the tests feed to the generator.</summary>
internal static class Sources
{
    /// <summary>The flagship structure loss in method form (as in src/LossDsl.Losses/StructureLoss.cs).</summary>
    public const string StructureLoss = """
        using LossDsl;
        using static LossDsl.Dsl;

        namespace LossDsl.Tests;

        /// <summary>F3Net / PraNet structure loss: boundary-weighted BCE plus weighted IoU.</summary>
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
        """;

    /// <summary>The flagship in attribute form.</summary>
    public const string StructureLossAttributes = """
        using LossDsl;

        namespace LossDsl.Tests;

        /// <summary>F3Net / PraNet structure loss: boundary-weighted BCE plus weighted IoU.</summary>
        [Loss, BoundaryWeight(Kernel = 31, Gain = 5), WeightedBce, WeightedIoU(Smooth = 1)]
        public static partial class StructureLossAttributes;
        """;

    public const string DiceCE = """
        using LossDsl;
        using static LossDsl.Dsl;

        namespace LossDsl.Tests;

        /// <summary>Softmax Dice per plane plus cross-entropy over the channels (MONAI's DiceCELoss, one-hot targets).</summary>
        [Loss]
        public static partial class DiceCE
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
        """;

    public const string SoftDice = """
        using LossDsl;

        namespace LossDsl.Tests;

        /// <summary>Soft Dice loss.</summary>
        [Loss, SoftDice(Smooth = 1)]
        public static partial class DiceLoss;
        """;

    public const string Focal = """
        using LossDsl;

        namespace LossDsl.Tests;

        /// <summary>Binary focal loss, summed over planes.</summary>
        [Loss(Reduction = Reduction.Sum), Focal(Alpha = 0.25, Gamma = 2)]
        public static partial class FocalLoss;
        """;

    /// <summary>PraNet's published form (as in src/LossDsl.Losses/StructureLoss.cs): a batch-mean BCE term plus the prelude's weighted IoU.</summary>
    public const string PraNetStructureLoss = """
        using LossDsl;
        using static LossDsl.Dsl;

        namespace LossDsl.Tests;

        /// <summary>The structure loss as PraNet's published code computes it: batch-mean BCE plus boundary-weighted IoU.</summary>
        [Loss]
        public static partial class PraNetStructureLoss
        {
            [Term]
            private static Batch Bce(Logits pred, Target mask) => BatchMean(BceWithLogits(pred, mask));

            [Term]
            private static Plane IoU(Logits pred, Target mask) => Prelude.WeightedIoU(pred, mask, Prelude.BoundaryWeight(mask, 31, 5), 1);
        }
        """;
}
