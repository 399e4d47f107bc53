using System;
using System.Collections.Generic;
using System.Linq;
using LossDsl.Generators.Model;
using Xunit;
using Xunit.Abstractions;

namespace LossDsl.Compiler.Tests.Autodiff;

/// <summary>
/// The ready-made losses exactly as declared in src/LossDsl.Losses (the flagship structure loss in method, published-code
/// and attribute form, and the prelude-based ones): the derived gradient against finite differences of the reference
/// interpreter at every element, on multi-channel, odd-sized shapes and images smaller than the 31×31 kernel.
/// </summary>
public sealed class StructureLossTests
{
    private static readonly Lazy<string> Source = new(() => CompiledLoss.RepositoryFile("src/LossDsl.Losses/StructureLoss.cs"));

    private static readonly LossShape[] Shapes =
    {
        new(2, 2, 7, 9),   // multi-channel, odd sizes, smaller than the kernel
        new(1, 3, 5, 4),
        new(3, 1, 1, 1),   // one pixel per plane
        new(1, 1, 33, 3),  // taller than the kernel, narrower than it
    };

    private readonly ITestOutputHelper _output;

    public StructureLossTests(ITestOutputHelper output) => _output = output;

    public static IEnumerable<object[]> Cases() =>
        from type in new[] { "StructureLoss", "PraNetStructureLoss", "StructureLossAttributes", "DiceLoss", "FocalDiceLoss", "TverskyLoss" }
        from binary in new[] { true, false }
        select new object[] { type, binary };

    [Theory]
    [MemberData(nameof(Cases))]
    public void GradientMatchesFiniteDifferences(string type, bool binaryMask)
    {
        var loss = CompiledLoss.FromSource(Source.Value, "LossDsl.Losses." + type);
        var domain = new Domain(-3, 3, BinaryMask: binaryMask);
        int seed = type.Length * 100 + (binaryMask ? 1 : 0);
        foreach (var shape in Shapes)
        {
            var r = GradientCheck.Run(loss, shape, seed++, domain);
            _output.WriteLine($"{type} {shape} binary={binaryMask}: loss error {r.LossError:E2}, gradient error {r.GradientError:E2} over {r.Elements} elements");
        }
    }

    [Fact]
    public void MethodAndAttributeFormsAgree()
    {
        var method = CompiledLoss.FromSource(Source.Value, "LossDsl.Losses.StructureLoss");
        var attributes = CompiledLoss.FromSource(Source.Value, "LossDsl.Losses.StructureLossAttributes");
        var shape = new LossShape(2, 1, 6, 5);
        var rng = new Random(5);
        var inputs = new[] { new Domain(-3, 3).Logits(rng, shape.Length), new Domain(BinaryMask: true).Mask(rng, shape.Length) };
        var seeds = method.DefaultSeeds(shape);
        var (lm, gm) = method.Evaluate(shape, inputs, seeds);
        var (la, ga) = attributes.Evaluate(shape, inputs, seeds);
        for (int p = 0; p < shape.Planes; p++)
        {
            GradientCheck.AssertClose(la[p], lm[p], 1e-14, "plane loss");
        }

        for (int e = 0; e < shape.Length; e++)
        {
            GradientCheck.AssertClose(ga[0]![e], gm[0]![e], 1e-12, "gradient");
        }
    }

    [Theory]
    [InlineData("Reduction.Sum")]
    [InlineData("Reduction.None")]
    [InlineData("Reduction.Mean")]
    public void ExplicitPerPlaneSeeds(string reduction)
    {
        // The gradient of Σ_p seed_p · loss_p for arbitrary seeds (the upstream gradient of an unreduced loss).
        var loss = CompiledLoss.Declare($"Loss(Reduction = {reduction})", """
                static Field Weight(Target mask) => 1 + 5 * Abs(AvgPool(mask, 31) - mask);

                [Term]
                static Plane Bce(Logits pred, Target mask) => WeightedMean(BceWithLogits(pred, mask), Weight(mask));

                [Term]
                static Plane IoU(Logits pred, Target mask)
                {
                    var w = Weight(mask);
                    var p = Sigmoid(pred);
                    var inter = Sum(w * p * mask);
                    var union = Sum(w * (p + mask));
                    return 1 - (inter + 1) / (union - inter + 1);
                }

                [Term(Weight = 0.5)]
                static Batch Global(Logits pred, Target mask) => BatchMean(Square(Sigmoid(pred) - mask));
            """);
        Assert.Equal(reduction switch { "Reduction.Sum" => ReductionKind.Sum, "Reduction.None" => ReductionKind.None, _ => ReductionKind.Mean }, loss.Spec.Reduction);
        var rng = new Random(reduction.Length);
        foreach (var shape in new[] { new LossShape(2, 2, 7, 9), new LossShape(1, 3, 3, 5) })
        {
            var seeds = Enumerable.Range(0, shape.Planes).Select(_ => (rng.NextDouble() * 4) - 2).ToArray();
            var r = GradientCheck.Run(loss, shape, rng.Next(), new Domain(-3, 3, BinaryMask: true), seeds);
            _output.WriteLine($"{reduction} {shape} random seeds: loss error {r.LossError:E2}, gradient error {r.GradientError:E2}");
            r = GradientCheck.Run(loss, shape, rng.Next(), new Domain(-3, 3));
            _output.WriteLine($"{reduction} {shape} default seeds: loss error {r.LossError:E2}, gradient error {r.GradientError:E2}");
        }
    }

    [Fact]
    public void WeightedTermsCombine()
    {
        var loss = CompiledLoss.Declare("Loss", """
                [Term(Weight = 0.3)]
                static Plane Dice(Logits pred, Target mask) => SoftDice(pred, mask, 1);

                [Term]
                static Plane Bce(Logits pred, Target mask) => Mean(BceWithLogits(pred, mask));

                [Term(Weight = -1.75)]
                static Plane Other(Logits pred, Target mask) => Mean(Square(Sigmoid(pred)) * mask);

                [Term(Weight = 2.5)]
                static Batch All(Logits pred, Target mask) => BatchMean(Softplus(pred) * mask);
            """);
        Assert.Equal(new[] { 0.3, 1.0, -1.75, 2.5 }, loss.Spec.Terms.Select(t => t.Weight));
        foreach (var shape in GradientCheck.SmallShapes)
        {
            var r = GradientCheck.Run(loss, shape, shape.Length);
            _output.WriteLine($"weighted terms {shape}: loss error {r.LossError:E2}, gradient error {r.GradientError:E2}");
        }
    }

    [Fact]
    public void TwoLogitsInputsEachGetTheirGradient()
    {
        var loss = CompiledLoss.Declare("Loss(Reduction = Reduction.Sum)", """
                [Term]
                static Plane Agreement(Logits side, Logits main, Target mask) =>
                    Mean(BceWithLogits(side, mask)) + Mean(Square(Sigmoid(side) - Sigmoid(main))) + SoftDice(main, mask, 1);
            """);
        Assert.Equal(new[] { 0, 1 }, loss.LogitsInputs);
        var r = GradientCheck.Run(loss, new LossShape(2, 1, 5, 6), 3);
        Assert.Equal(2 * 60, r.Elements);
    }
}
