using Xunit;

namespace LossDsl.Compiler.Tests.Autodiff;

/// <summary>C# semantics that the parser must keep: the IR's loss must equal the reference interpreter's (the C# code run as written).</summary>
public sealed class ParseSemanticsTests
{
    [Theory]
    [InlineData("static Plane Scaled(Logits pred, int k) => Mean(Sigmoid(pred)) * (k / 2);", "Scaled(pred, 3)")]
    [InlineData("static Plane Scaled(Logits pred, int k) => Mean(Sigmoid(pred)) * ((k - 4) / 3) + k / 2 * Sum(pred);", "Scaled(pred, 3)")]
    [InlineData("static Plane Scaled(Logits pred, int k) => Mean(Sigmoid(pred)) / (k / 2.0);", "Scaled(pred, 3)")]
    [InlineData("static Field W(Target mask, int k) => 1 + Abs(AvgPool(mask, k / 2 * 2 + 1) - mask);", "WeightedMean(BceWithLogits(pred, mask), W(mask, 7))")]
    public void HelperArithmeticOnIntegersKeepsCSharpSemantics(string helper, string call)
    {
        var loss = CompiledLoss.Declare("Loss", helper + $"\n[Term] static Plane T(Logits pred, Target mask) => {call};");
        foreach (var shape in GradientCheck.SmallShapes)
        {
            GradientCheck.Run(loss, shape, 11);
        }
    }
}
