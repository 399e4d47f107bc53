using System;
using System.Collections.Generic;
using System.Linq;
using Xunit;
using Xunit.Abstractions;

namespace LossDsl.Compiler.Tests.Autodiff;

/// <summary>
/// One tiny loss per piece of the vocabulary: the compiler's derived gradient (evaluated on the IR) against finite
/// differences of the reference interpreter, and the IR's loss value against the interpreter's.
/// </summary>
public sealed class OpGradientTests
{
    private const string PT = "Logits pred, Target mask";
    private const string AB = "Logits a, Logits b, Target mask";

    private static readonly Dictionary<string, (string Body, Domain Domain)> Cases = new()
    {
        // ----- unary pointwise on fields
        ["Abs"] = ($"[Term] static Plane T({PT}) => Mean(Abs(pred) * (1 + mask));", new Domain(Kinks: new[] { 0.0 })),
        ["Sigmoid"] = ($"[Term] static Plane T({PT}) => Mean(Sigmoid(pred) * mask);", Domain.Default),
        ["LogSigmoid"] = ($"[Term] static Plane T({PT}) => Mean(LogSigmoid(pred) * (1 + mask));", new Domain(-6, 6)),
        ["Softplus"] = ($"[Term] static Plane T({PT}) => Mean(Softplus(pred) * (mask - 0.3));", new Domain(-6, 6)),
        ["Exp"] = ($"[Term] static Plane T({PT}) => Mean(Exp(pred) * mask);", Domain.Default),
        ["Neg"] = ($"[Term] static Plane T({PT}) => Mean(Exp(-pred) * mask - pred);", Domain.Default),
        ["Log"] = ($"[Term] static Plane T({PT}) => Mean(Log(pred) * (1 + mask));", Domain.Positive),
        ["Sqrt"] = ($"[Term] static Plane T({PT}) => Mean(Sqrt(pred) * (1 + mask));", Domain.Positive),
        ["Square"] = ($"[Term] static Plane T({PT}) => Mean(Square(pred) * mask);", Domain.Default),
        ["Pow3"] = ($"[Term] static Plane T({PT}) => Mean(Pow(pred, 3) * (1 + mask));", Domain.Default),
        ["Pow0.5"] = ($"[Term] static Plane T({PT}) => Mean(Pow(pred, 0.5) * (1 + mask));", Domain.Positive),
        ["Pow-1.5"] = ($"[Term] static Plane T({PT}) => Mean(Pow(pred, -1.5) * (1 + mask));", Domain.Positive),
        ["Pow2"] = ($"[Term] static Plane T({PT}) => Mean(Pow(pred, 2) * (1 + mask));", Domain.Default),
        ["Pow1"] = ($"[Term] static Plane T({PT}) => Mean(Pow(pred, 1) * (1 + mask));", Domain.Default),
        ["Pow4.5"] = ($"[Term] static Plane T({PT}) => Mean(Pow(pred, 4.5) * (1 + mask));", Domain.Positive),
        ["MinConst"] = ($"[Term] static Plane T({PT}) => Mean(Min(pred, 0.3) * (1 + mask));", new Domain(Kinks: new[] { 0.3 })),
        ["MaxConst"] = ($"[Term] static Plane T({PT}) => Mean(Max(pred, -0.2) * (1 + mask));", new Domain(Kinks: new[] { -0.2 })),
        ["Clamp"] = ($"[Term] static Plane T({PT}) => Mean(Clamp(pred, -0.5, 0.7) * (1 + mask));", new Domain(Kinks: new[] { -0.5, 0.7 })),
        ["BceWithLogits"] = ($"[Term] static Plane T({PT}) => Mean(BceWithLogits(pred, mask));", new Domain(-8, 8)),
        ["BceWithLogitsOfExpression"] = ($"[Term] static Plane T({PT}) => Mean(BceWithLogits(2 * pred - 1, mask));", Domain.Default),

        // ----- binary pointwise
        ["MinFields"] = ($"[Term] static Plane T({AB}) => Mean(Min(a, b) * (1 + mask) + Square(Min(b, a)));", new Domain(Pair: Domain.Apart)),
        ["MaxFields"] = ($"[Term] static Plane T({AB}) => Mean(Max(a, b) * (1 + mask) + Square(Max(b, 0.5 * a)));", new Domain(Pair: Domain.Apart)),
        ["MinMaxFieldTarget"] = ($"[Term] static Plane T({PT}) => Mean(Max(pred, mask) + Square(Min(mask, pred)));", new Domain(Kinks: new[] { 0.0, 1.0 }, BinaryMask: true)),
        ["AddSubConst"] = ($"[Term] static Plane T({PT}) => Mean(Square(pred + 0.5) + Square(0.25 - pred) + Square(pred - mask) + (1.5 + pred) * mask);", Domain.Default),
        ["MulDivConst"] = ($"[Term] static Plane T({PT}) => Mean(Square(3 * pred) + Square(pred * 0.5) + Square(pred / 4) + 1 / (2 + Square(pred)) + mask * pred / 3);", Domain.Default),
        ["ArithmeticFields"] = ($"[Term] static Plane T({AB}) => Mean(a * b + a / (1 + Square(b)) - b * mask + (a - b) * (a + b) + a * a * b);", Domain.Default),
        ["DivByLogits"] = ($"[Term] static Plane T({AB}) => Mean((a + mask) / (b * b + 0.5) + mask / (2 + Sigmoid(a)));", Domain.Default),
        ["SharedSubexpressions"] = ($"[Term] static Plane T({PT}) {{ var p = Sigmoid(pred); var q = p * p; return Mean(q * p + q / (1 + p) - p * mask); }}", Domain.Default),

        // ----- reductions
        ["Sum"] = ($"[Term] static Plane T({PT}) => Sum(Sigmoid(pred) * mask);", Domain.Default),
        ["Mean"] = ($"[Term] static Plane T({PT}) => Mean(Square(pred - mask));", Domain.Default),
        ["WeightedMean"] = ($"[Term] static Plane T({PT}) => WeightedMean(Square(pred - mask), 1 + mask);", Domain.Default),
        ["WeightedMeanLogitsWeight"] = ($"[Term] static Plane T({PT}) => WeightedMean(mask + Square(pred), Sigmoid(pred) + 0.1);", Domain.Default),
        ["BatchMean"] = ($"[Term] static Batch T({PT}) => BatchMean(Square(pred - mask) * (1 + mask));", Domain.Default),
        ["BatchArithmetic"] = ($"[Term] static Batch T({PT}) {{ var m = BatchMean(Sigmoid(pred)); var s = BatchMean(Square(pred) * mask); return m * s / (1 + s) + 2 * m - s / 3 + 1 / (m + 1); }}", Domain.Default),
        ["PlaneTimesBatch"] = ($"[Term] static Plane T({PT}) => Mean(Sigmoid(pred) * mask) * BatchMean(Square(pred)) + Sum(pred * mask) / (1 + BatchMean(Exp(pred)));", Domain.Default),
        ["BatchOverPlane"] = ($"[Term] static Plane T({PT}) => BatchMean(Sigmoid(pred)) / (1 + Mean(Square(pred))) - BatchMean(pred * mask) + Mean(pred);", Domain.Default),

        ["LinearReductions"] = ($"[Term] static Plane T({PT}) => Sum(pred) + Mean(2 * pred) - 3 * Sum(pred * mask);", Domain.Default),
        ["LinearBatchMean"] = ($"[Term] static Batch T({PT}) => BatchMean(pred) * 4 - 1;", Domain.Default),
        ["WeightedMeanConstantWeight"] = ($"[Term] static Plane T({PT}) => WeightedMean(Sigmoid(pred), 0 * mask + 1) + WeightedMean(pred, 2.5 + 0 * mask);", Domain.Default),
        ["SelfCancelling"] = ($"[Term] static Plane T({PT}) => Mean(pred - pred + pred / pred + Square(pred) - pred * pred + Sigmoid(pred) * mask);", new Domain(Kinks: new[] { 0.0 })),

        // ----- plane-level arithmetic
        ["PlaneArithmetic"] = ($"[Term] static Plane T({PT}) {{ var a = Mean(Sigmoid(pred)); var b = Sum(Square(pred) * mask); return (a + 1) * (b - 0.5) / (a + b + 1) - a / (1 + b) + 3 * a - b / 7 + Square(a) * b; }}", Domain.Default),
        ["PlaneFunctions"] = ($"[Term] static Plane T({PT}) {{ var a = Mean(Sigmoid(pred)); var b = Mean(Square(pred) * mask); return Sqrt(a + b) + Log(1 + b) * Exp(-a) + Pow(a, 1.5) + Pow(b + 1, -0.5) + Sigmoid(b - a) + Abs(a - 2) + Clamp(b, -10, 10) + Clamp(a, 0.999, 2); }}", Domain.Default),
        ["PlaneUnaryMinus"] = ($"[Term] static Plane T({PT}) => -Mean(pred * mask) + Exp(-Mean(Sigmoid(pred)));", Domain.Default),
        ["NestedReductions"] = ($"[Term] static Plane T({PT}) {{ var inter = Sum(Sigmoid(pred) * mask); var union = Sum(Sigmoid(pred) + mask); return 1 - (inter + 1) / (union - inter + 1); }}", Domain.Default),

        // ----- target stencils feeding weights
        ["AvgPoolWeight"] = ($"[Term] static Plane T({PT}) => WeightedMean(BceWithLogits(pred, mask), 1 + 5 * Abs(AvgPool(mask, 3) - mask));", new Domain(BinaryMask: true)),
        ["MaxMinPoolWeight"] = ($"[Term] static Plane T({PT}) => WeightedMean(BceWithLogits(pred, mask), 1 + MaxPool(mask, 3) - MinPool(mask, 5) + 2 * AvgPool(mask * mask, 7));", Domain.Default),
        ["NestedStencils"] = ($"[Term] static Plane T({PT}) => Mean(Sigmoid(pred) * AvgPool(MaxPool(mask, 3), 5) + pred * MinPool(AvgPool(mask, 3) + 1, 9));", Domain.Default),
        ["StencilOfTargetExpression"] = ($"[Term] static Plane T({PT}) => Sum(Square(pred - AvgPool(Sigmoid(4 * mask - 2), 5)) * MaxPool(1 - mask, 7));", Domain.Default),
        ["WideKernel"] = ($"[Term] static Plane T({PT}) => WeightedMean(Square(Sigmoid(pred) - mask), 1 + 5 * Abs(AvgPool(mask, 31) - mask)) + Mean(pred * MaxPool(mask, 15));", new Domain(BinaryMask: true)),

        // ----- the prelude, called from terms
        ["PreludeFocal"] = ($"[Term] static Plane T({PT}) => Focal(pred, mask, 0.25, 2) + Focal(pred, mask, 0.6, 1.5);", Domain.Default),
        ["PreludeTversky"] = ($"[Term] static Plane T({PT}) => Tversky(pred, mask, 0.3, 0.7, 1);", Domain.Default),
        ["PreludeDiceIoU"] = ($"[Term] static Plane T({PT}) => SoftDice(pred, mask, 1) + IoU(pred, mask, 0.5) + Bce(pred, mask);", Domain.Default),
        ["PreludeWeighted"] = ($"[Term] static Plane T({PT}) => WeightedBce(pred, mask, BoundaryWeight(mask, 5, 3)) + WeightedIoU(pred, mask, BoundaryWeight(mask, 3, 2), 1);", new Domain(BinaryMask: true)),
    };

    private readonly ITestOutputHelper _output;

    public OpGradientTests(ITestOutputHelper output) => _output = output;

    public static IEnumerable<object[]> CaseNames => Cases.Keys.Select(k => new object[] { k });

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void GradientMatchesFiniteDifferencesOfTheReference(string name)
    {
        var (body, domain) = Cases[name];
        var loss = CompiledLoss.Declare("Loss", body);
        int seed = name.Aggregate(17, (h, c) => (h * 31) + c);
        foreach (var shape in GradientCheck.SmallShapes)
        {
            var r = GradientCheck.Run(loss, shape, seed++, domain);
            _output.WriteLine($"{name} {shape}: loss error {r.LossError:E2}, gradient error {r.GradientError:E2} over {r.Elements} elements");
        }
    }

    [Fact]
    public void MinAndMaxOfEqualFieldsSplitTheGradient()
    {
        // At a tie the derivative convention is ½ to each side (torch.maximum/minimum); Max(a, a) folds to a, so tie b to a.
        var loss = CompiledLoss.Declare("Loss", $"[Term] static Plane T({AB}) => Sum(Max(a, b) + 2 * Min(a, b));");
        var shape = new LossShape(1, 1, 2, 3);
        var x = new[] { 0.1, -0.4, 1.0, 2.0, 0.0, -1.0 };
        var (_, grads) = loss.Evaluate(shape, new[] { x, (double[])x.Clone(), new double[6] }, new[] { 1.0 });
        Assert.All(grads[0]!, g => Assert.Equal(1.5, g));
        Assert.All(grads[1]!, g => Assert.Equal(1.5, g));
    }

    [Fact]
    public void TargetsGetNoGradient()
    {
        var loss = CompiledLoss.Declare("Loss", $"[Term] static Plane T({PT}) => Mean(BceWithLogits(pred, mask));");
        Assert.Equal(new[] { 0 }, loss.LogitsInputs);
        Assert.Single(loss.Schedule.Gradients);
        Assert.Equal(0, loss.Schedule.Gradients[0].Input);
    }
}
