using System;
using System.Collections.Generic;
using System.Linq;
using LossDsl.Generators.Model;
using Xunit;
using Xunit.Sdk;

namespace LossDsl.Compiler.Tests.Autodiff;

/// <summary>How the inputs of a check are drawn.</summary>
/// <param name="Lo">Lowest logit.</param>
/// <param name="Hi">Highest logit.</param>
/// <param name="Kinks">Logit values to stay at least <see cref="Margin"/> away from (points where the loss is not smooth).</param>
/// <param name="BinaryMask">Targets in {0, 1} instead of uniform in [0, 1].</param>
/// <param name="Pair">For a second Logits input b: whether (a, b) is far enough from a kink; redrawn until it is.</param>
internal sealed record Domain(double Lo = -2, double Hi = 2, double[]? Kinks = null, bool BinaryMask = false, Func<double, double, bool>? Pair = null)
{
    public const double Margin = 0.05;

    public static readonly Domain Default = new();

    public static readonly Domain Positive = new(0.3, 2.5);

    /// <summary>Pairs whose difference, and whose difference to half the first, is at least the margin (for Min/Max of two fields).</summary>
    public static bool Apart(double a, double b) => Math.Abs(a - b) >= Margin && Math.Abs(b - (0.5 * a)) >= Margin;

    public double[] Logits(Random rng, int length, double[]? first = null)
    {
        var r = new double[length];
        for (int i = 0; i < length; i++)
        {
            double v;
            do
            {
                v = Lo + ((Hi - Lo) * rng.NextDouble());
            }
            while ((Kinks is not null && Kinks.Any(k => Math.Abs(v - k) < Margin)) || (first is not null && Pair is not null && !Pair(first[i], v)));

            r[i] = v;
        }

        return r;
    }

    public double[] Mask(Random rng, int length) =>
        Enumerable.Range(0, length).Select(_ => BinaryMask ? (rng.NextDouble() < 0.5 ? 0.0 : 1.0) : rng.NextDouble()).ToArray();
}

/// <summary>The worst disagreements one check saw.</summary>
internal sealed record CheckResult(double LossError, double GradientError, int Elements);

/// <summary>
/// Checks a compiled loss on one shape: (1) the IR's per-plane loss, evaluated by <see cref="Evaluation.GraphEvaluator"/>,
/// equals the reference interpreter's; (2) the IR's gradient of Σ_p seed_p·loss_p with respect to every Logits input equals
/// the central finite difference (5-point, h = 1e-3, error O(h⁴)) of that same sum computed by the reference interpreter,
/// at every element.
/// </summary>
internal static class GradientCheck
{
    public const double LossTolerance = 1e-12;

    public const double GradientTolerance = 1e-7;

    private const double H = 1e-3;

    private static readonly object Gate = new();

    /// <summary>Worst errors over every check run so far (reported by the summary test output).</summary>
    public static double WorstLoss { get; private set; }

    public static double WorstGradient { get; private set; }

    public static CheckResult Run(CompiledLoss loss, LossShape shape, int seed, Domain? domain = null, double[]? seeds = null, Func<Random, double[][], double[][]>? adjust = null)
    {
        domain ??= Domain.Default;
        var rng = new Random(seed);
        var inputs = new double[loss.InputCount][];
        double[]? first = null;
        for (int i = 0; i < inputs.Length; i++)
        {
            if (loss.Spec.Inputs[i].Role == InputRole.Logits)
            {
                inputs[i] = domain.Logits(rng, shape.Length, first);
                first ??= inputs[i];
            }
            else
            {
                inputs[i] = domain.Mask(rng, shape.Length);
            }
        }

        if (adjust is not null)
        {
            inputs = adjust(rng, inputs);
        }

        seeds ??= loss.DefaultSeeds(shape);

        // The default seed is what the declared reduction implies: Σ_p seed_p·loss_p is the reduced loss.
        var reference = loss.ReferencePlaneLosses(shape, inputs);
        var defaults = loss.DefaultSeeds(shape);
        AssertClose(loss.ReferenceCompute(shape, inputs), Dot(defaults, reference), LossTolerance, "reference Compute vs Σ default seed · PlaneLosses");

        var (planeLoss, gradients) = loss.Evaluate(shape, inputs, seeds);
        double lossError = 0;
        for (int p = 0; p < shape.Planes; p++)
        {
            double e = Relative(planeLoss[p], reference[p], 1e-300);
            lossError = Math.Max(lossError, e);
            if (!(e <= LossTolerance))
            {
                throw new XunitException($"Plane {p}: the IR's loss {planeLoss[p]:R} differs from the reference interpreter's {reference[p]:R} (relative {e:E2}).");
            }
        }

        double gradError = 0;
        int elements = 0;
        foreach (int input in loss.LogitsInputs)
        {
            var grad = gradients[input] ?? throw new XunitException($"No gradient for Logits input {input}.");
            var fd = new double[shape.Length];
            for (int e = 0; e < shape.Length; e++)
            {
                fd[e] = FiniteDifference(loss, shape, inputs, seeds, input, e);
            }

            double scale = fd.Max(Math.Abs);
            double floor = Math.Max(scale * 1e-2, 1e-300);
            for (int e = 0; e < shape.Length; e++)
            {
                double err = Math.Abs(grad[e] - fd[e]) / Math.Max(Math.Abs(fd[e]), floor);
                if (!(err <= GradientTolerance))
                {
                    throw new XunitException($"d loss / d {loss.Spec.Inputs[input].Name}[{e}] on {shape}: IR gradient {grad[e]:R}, finite difference {fd[e]:R} (relative {err:E2}).");
                }

                gradError = Math.Max(gradError, err);
                elements++;
            }
        }

        lock (Gate)
        {
            WorstLoss = Math.Max(WorstLoss, lossError);
            WorstGradient = Math.Max(WorstGradient, gradError);
        }

        return new CheckResult(lossError, gradError, elements);
    }

    private static double FiniteDifference(CompiledLoss loss, LossShape shape, double[][] inputs, double[] seeds, int input, int e)
    {
        var x = inputs.Select(a => (double[])a.Clone()).ToArray();
        double x0 = x[input][e];
        double F(double v)
        {
            x[input][e] = v;
            return Dot(seeds, loss.ReferencePlaneLosses(shape, x));
        }

        double d1 = F(x0 + H) - F(x0 - H);
        double d2 = F(x0 + (2 * H)) - F(x0 - (2 * H));
        return ((8 * d1) - d2) / (12 * H);
    }

    private static double Dot(double[] a, double[] b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++)
        {
            s += a[i] * b[i];
        }

        return s;
    }

    public static double Relative(double actual, double expected, double floor) =>
        actual == expected ? 0 : Math.Abs(actual - expected) / Math.Max(Math.Max(Math.Abs(expected), Math.Abs(actual)), floor);

    public static void AssertClose(double actual, double expected, double tolerance, string what)
    {
        double e = Relative(actual, expected, 1e-300);
        if (!(e <= tolerance))
        {
            throw new XunitException($"{what}: {actual:R} vs {expected:R} (relative {e:E2} > {tolerance:E0}).");
        }
    }

    public static IEnumerable<LossShape> SmallShapes => new[] { new LossShape(2, 2, 7, 9), new LossShape(1, 3, 4, 5), new LossShape(3, 1, 1, 1) };
}
