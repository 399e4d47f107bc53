using System;
using System.Linq;
using System.Threading.Tasks;
using LossDsl.Tests;
using Xunit;

namespace LossDsl.Cpu.Tests;

/// <summary>The CPU backend against the reference interpreter and finite differences, and its behaviour on bad input.</summary>
public class NumericTests
{
    public static TheoryData<int, int, int, int, int> Shapes => new()
    {
        { 1, 1, 1, 1, 1 },
        { 2, 3, 5, 7, 2 },
        { 1, 1, 9, 12, 3 },
        { 3, 2, 16, 16, 4 },
        { 2, 1, 33, 70, 5 },
        { 1, 1, 129, 130, 6 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void StructureLossMatchesReferenceInterpreter(int n, int c, int h, int w, int seed)
    {
        var shape = new LossShape(n, c, h, w);
        var (pred, mask) = Inputs.Random(shape, seed);
        double expected = WeightedK31.Reference.Compute(Inputs.Logits(shape, pred), Inputs.Target(shape, mask));
        double actual = WeightedK31.Cpu.Compute(pred, mask, Span<double>.Empty, shape);
        Assert.InRange(Math.Abs(actual - expected), 0, 1e-12 * Math.Abs(expected));

        float actual32 = WeightedK31.Cpu.Compute(Inputs.ToFloat(pred), Inputs.ToFloat(mask), Span<float>.Empty, shape);
        Assert.InRange(Math.Abs(actual32 - expected), 0, 1e-5 * Math.Abs(expected));
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void EveryOpMatchesReferenceInterpreter(int n, int c, int h, int w, int seed)
    {
        var shape = new LossShape(n, c, h, w);
        var (pred, mask) = Inputs.Random(shape, seed, softMask: true);
        double expected = Kitchen.Reference.Compute(Inputs.Logits(shape, pred), Inputs.Target(shape, mask));
        double actual = Kitchen.Cpu.Compute(pred, mask, Span<double>.Empty, shape);
        Assert.InRange(Math.Abs(actual - expected), 0, 1e-11 * Math.Abs(expected));

        float actual32 = Kitchen.Cpu.Compute(Inputs.ToFloat(pred), Inputs.ToFloat(mask), Span<float>.Empty, shape);
        Assert.InRange(Math.Abs(actual32 - expected), 0, 2e-5 * Math.Abs(expected));
    }

    private delegate double Loss(ReadOnlySpan<double> pred, ReadOnlySpan<double> mask, Span<double> grad, LossShape shape);

    private static void CheckGradient(Loss loss, LossShape shape, double[] pred, double[] mask, double tolerance)
    {
        var grad = new double[shape.Length];
        loss(pred, mask, grad, shape);
        // Five-point central differences: truncation O(h⁴), round-off about ε·loss/h.
        const double h = 1e-4;
        double scale = grad.Max(Math.Abs);
        double At(int i, double x)
        {
            double keep = pred[i];
            pred[i] = x;
            double v = loss(pred, mask, Span<double>.Empty, shape);
            pred[i] = keep;
            return v;
        }

        for (int i = 0; i < pred.Length; i++)
        {
            double x = pred[i];
            double fd = (-At(i, x + (2 * h)) + (8 * At(i, x + h)) - (8 * At(i, x - h)) + At(i, x - (2 * h))) / (12 * h);
            Assert.True(Math.Abs(fd - grad[i]) <= tolerance * scale, $"element {i}: analytic {grad[i]:R}, finite difference {fd:R}");
        }
    }

    [Fact]
    public void StructureLossGradientMatchesFiniteDifferences()
    {
        var shape = new LossShape(2, 2, 7, 9);
        var (pred, mask) = Inputs.Random(shape, 11);
        CheckGradient(WeightedK31.Cpu.Compute, shape, pred, mask, 1e-8);
    }

    [Fact]
    public void PraNetFormGradientMatchesFiniteDifferences()
    {
        var shape = new LossShape(2, 1, 6, 11);
        var (pred, mask) = Inputs.Random(shape, 12, softMask: true);
        CheckGradient(PraNetK31.Cpu.Compute, shape, pred, mask, 1e-8);
    }

    [Fact]
    public void EveryOpGradientMatchesFiniteDifferences()
    {
        var shape = new LossShape(2, 1, 6, 7);
        var (pred, mask) = Inputs.Random(shape, 13, softMask: true);
        CheckGradient(Kitchen.Cpu.Compute, shape, pred, mask, 1e-7);
    }

    [Fact]
    public void ReductionNoneWritesPlaneLossesAndSeededBackward()
    {
        var shape = new LossShape(2, 3, 8, 9);
        var (pred, mask) = Inputs.Random(shape, 14);
        var planes = new double[shape.Planes];
        double total = DicePerPlane.Cpu.Compute(pred, mask, Span<double>.Empty, planes, shape);
        var expected = DicePerPlane.Reference.PlaneLosses(Inputs.Logits(shape, pred), Inputs.Target(shape, mask));
        for (int p = 0; p < planes.Length; p++)
        {
            Assert.InRange(Math.Abs(planes[p] - expected[p]), 0, 1e-12);
        }

        Assert.InRange(Math.Abs(total - expected.Sum()), 0, 1e-12);

        // Backward with per-plane seeds is the gradient of Σ seed_p · loss_p.
        var seeds = Enumerable.Range(0, shape.Planes).Select(p => 0.5 + p).ToArray();
        var grad = new double[shape.Length];
        DicePerPlane.Cpu.Backward(pred, mask, seeds, grad, shape);
        double Weighted(double[] x)
        {
            var l = new double[shape.Planes];
            DicePerPlane.Cpu.Compute(x, mask, Span<double>.Empty, l, shape);
            return l.Select((v, p) => v * seeds[p]).Sum();
        }

        for (int i = 0; i < pred.Length; i += 7)
        {
            double keep = pred[i];
            pred[i] = keep + 1e-6;
            double up = Weighted(pred);
            pred[i] = keep - 1e-6;
            double down = Weighted(pred);
            pred[i] = keep;
            Assert.InRange(Math.Abs(((up - down) / 2e-6) - grad[i]), 0, 1e-8);
        }
    }

    [Fact]
    public void ConcurrentCallsAreThreadSafeAndDeterministic()
    {
        var shape = new LossShape(2, 1, 96, 80);
        var (pred, mask) = Inputs.Random(shape, 15);
        var p32 = Inputs.ToFloat(pred);
        var m32 = Inputs.ToFloat(mask);
        var grad0 = new float[shape.Length];
        float loss0 = WeightedK31.Cpu.Compute(p32, m32, grad0, shape);
        Parallel.For(0, 16, new ParallelOptions { MaxDegreeOfParallelism = 4 }, _ =>
        {
            var grad = new float[shape.Length];
            float loss = WeightedK31.Cpu.Compute(p32, m32, grad, shape);
            Assert.Equal(loss0, loss);
            Assert.True(grad.AsSpan().SequenceEqual(grad0), "gradients differ between calls");
        });
    }

    [Fact]
    public void ReusesScratchAcrossShapes()
    {
        foreach (var shape in new[] { new LossShape(1, 1, 40, 40), new LossShape(2, 2, 10, 12), new LossShape(1, 1, 64, 50) })
        {
            var (pred, mask) = Inputs.Random(shape, shape.H);
            double expected = WeightedK31.Reference.Compute(Inputs.Logits(shape, pred), Inputs.Target(shape, mask));
            Assert.InRange(Math.Abs(WeightedK31.Cpu.Compute(pred, mask, Span<double>.Empty, shape) - expected), 0, 1e-12);
        }
    }

    [Fact]
    public void NaNInPredictionPropagates()
    {
        var shape = new LossShape(1, 1, 8, 8);
        var (pred, mask) = Inputs.Random(shape, 16);
        pred[10] = double.NaN;
        var grad = new double[shape.Length];
        Assert.True(double.IsNaN(WeightedK31.Cpu.Compute(pred, mask, grad, shape)));
        Assert.True(double.IsNaN(grad[10]));
    }

    [Fact]
    public void ExtremeLogitsGiveFiniteLossAndGradient()
    {
        var shape = new LossShape(1, 1, 16, 16);
        var (pred, mask) = Inputs.Random(shape, 17);
        for (int i = 0; i < pred.Length; i += 3)
        {
            pred[i] = i % 2 == 0 ? 1e4 : -1e4;
        }

        var grad = new float[shape.Length];
        float loss = WeightedK31.Cpu.Compute(Inputs.ToFloat(pred), Inputs.ToFloat(mask), grad, shape);
        double expected = WeightedK31.Reference.Compute(Inputs.Logits(shape, pred), Inputs.Target(shape, mask));
        Assert.True(float.IsFinite(loss));
        Assert.InRange(Math.Abs(loss - expected), 0, 1e-5 * expected);
        Assert.All(grad, g => Assert.True(float.IsFinite(g)));
    }

    [Fact]
    public void WrongLengthsAreRejectedWithTheParameterName()
    {
        var shape = new LossShape(1, 2, 4, 4);
        var ok = new float[shape.Length];
        var ex = Assert.Throws<ArgumentException>(() => WeightedK31.Cpu.Compute(new float[5], ok, ok, shape));
        Assert.Equal("pred", ex.ParamName);
        Assert.Contains("32", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => WeightedK31.Cpu.Compute(ok, new float[33], ok, shape));
        Assert.Equal("mask", ex.ParamName);
        ex = Assert.Throws<ArgumentException>(() => WeightedK31.Cpu.Compute(ok, ok, new float[31], shape));
        Assert.Equal("predGrad", ex.ParamName);
        ex = Assert.Throws<ArgumentException>(() => WeightedK31.Cpu.Compute(ok, ok, ok, new float[3], shape));
        Assert.Equal("planeLosses", ex.ParamName);
        ex = Assert.Throws<ArgumentException>(() => DicePerPlane.Cpu.Backward(ok, ok, new float[1], ok, shape));
        Assert.Equal("planeSeeds", ex.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => WeightedK31.Cpu.Compute(ok, ok, ok, new LossShape(0, 2, 4, 4)));
        Assert.Throws<ArgumentOutOfRangeException>(() => WeightedK31.Cpu.Compute(ok, ok, ok, new LossShape(1, -2, 4, 4)));
    }
}
