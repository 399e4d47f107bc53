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
    [InlineData("static Plane H(Logits pred, Target mask, double gain = 2.5, int k = 3) => Mean(gain * Sigmoid(pred) * AvgPool(mask, k));", "H(pred, mask) + H(k: 5, mask: mask, pred: pred) + H(pred, mask, k: 1)")]
    [InlineData("static Plane H(Logits pred, Target mask, double a, double b) => Mean(a * Sigmoid(pred) - b * mask * pred);", "H(b: 0.25, a: 3, mask: mask, pred: pred)")]
    [InlineData("const double Gain = 1.0 / 3; const int K = 5;", "Mean(Gain * Square(pred - AvgPool(mask, K)) + (float)0.1 * pred)")]
    [InlineData("static Plane H(Logits pred, Target mask) { Field Local(Field x) => Sigmoid(x) * mask; var s = Local(pred); return Mean(s * Local(2 * pred)); }", "H(pred, mask)")]
    public void HelpersKeepCSharpSemantics(string helper, string call)
    {
        var loss = CompiledLoss.Declare("Loss", helper + $"\n[Term] static Plane T(Logits pred, Target mask) => {call};");
        foreach (var shape in GradientCheck.SmallShapes)
        {
            GradientCheck.Run(loss, shape, 11);
        }
    }
}

public sealed class InputUnionTests
{
    [Fact]
    public void TermsWithDifferentParameterNamesMakeSeparateInputs()
    {
        var loss = CompiledLoss.Declare("Loss(Reduction = Reduction.None)", """
                [Term] static Plane A(Logits pred, Target mask) => Mean(BceWithLogits(pred, mask));
                [Term(Weight = 0.5)] static Plane B(Target m, Logits p) => SoftDice(p, m, 1) + Mean(Sigmoid(p) * mask2(m));
                static Field mask2(Target m) => MaxPool(m, 3);
                [Term] static Batch C(Logits p, Logits pred) => BatchMean(Square(Sigmoid(p) - Sigmoid(pred)));
            """);
        Assert.Equal(new[] { "pred", "mask", "m", "p" }, System.Linq.Enumerable.Select(loss.Spec.Inputs, i => i.Name));
        var shape = new LossShape(2, 1, 3, 4);
        var seeds = new[] { 0.7, -1.3 };
        var r = GradientCheck.Run(loss, shape, 21, seeds: seeds);
        Assert.Equal(2 * shape.Length, r.Elements);
    }
}
