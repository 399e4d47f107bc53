using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using PraNet.Training;
using Xunit;

namespace LossDsl.Training.Tests;

/// <summary>PraNet's six metrics: cases worked by hand, properties, and the NumPy/SciPy reference values.</summary>
public class MetricsTests
{
    private const double Eps = 2.220446049250313e-16;

    // The 7×7, σ = 5 Gaussian's normalised 1-D factor, written out: g(i) = exp(−i²/50) / Σ_{j=−3..3} exp(−j²/50).
    private static double G(int i)
    {
        double z = 1 + (2 * (Math.Exp(-1 / 50.0) + Math.Exp(-4 / 50.0) + Math.Exp(-9 / 50.0)));
        return Math.Exp(-(i * i) / 50.0) / z;
    }

    [Fact]
    public void EpsIsMatlabEps()
    {
        Assert.Equal(PolypMetrics.Eps, Math.Pow(2, -52));
    }

    [Fact]
    public void PerfectPredictionOnTwoByTwo()
    {
        // Mask and prediction: only the top-left pixel is foreground. N = 4, |G| = 1.
        double[] p = [1, 0, 0, 0];
        bool[] m = [true, false, false, false];
        SegmentationScores s = PolypMetrics.Score(p, m, 2, 2);

        // Threshold k = 0 (p >= 0) selects all 4 pixels: Dice 2/5, IoU 1/4; every other threshold is exact.
        Assert.Equal((0.4 + 255) / 256, s.MeanDice, 1e-13);
        Assert.Equal((0.25 + 255) / 256, s.MeanIoU, 1e-13);
        // E-measure: the exact map aligns every pixel (enhanced 1), Σ = 4 over N − 1 = 3; the all-foreground map has
        // zero deviation everywhere (enhanced ¼), Σ = 1.
        Assert.Equal(((255 * 4.0 / (3 + Eps)) + (1 / (3 + Eps))) / 256, s.MeanEMeasure, 1e-13);
        Assert.Equal(0, s.Mae);
        // S-measure: O_FG = 2/(1 + 1) = 1, O_BG = 1, every single-pixel block scores 1 (α' = β' = 0).
        Assert.Equal(1, s.SMeasure, 1e-13);
        // Weighted F: no error anywhere, so R = 1, P = 1/(1 + eps), F = 2RP/(R + P + eps).
        double precision = 1 / (1 + Eps);
        Assert.Equal(2 * precision / (1 + precision + Eps), s.WeightedF, 1e-13);
    }

    [Fact]
    public void HalfConfidentPixelOnTwoByTwo()
    {
        // Foreground top-left, predicted 0.5 there and 0 elsewhere. level(0.5) = 127 (127/255 < 0.5 < 128/255).
        double[] p = [0.5, 0, 0, 0];
        bool[] m = [true, false, false, false];
        SegmentationScores s = PolypMetrics.Score(p, m, 2, 2);

        Assert.Equal((0.4 + 127) / 256, s.MeanDice, 1e-13);
        Assert.Equal((0.25 + 127) / 256, s.MeanIoU, 1e-13);
        // k = 0: 1/3; k = 1…127: exact map, 4/3; k = 128…255: empty map, Σ = 4 · ¼ = 1 → 1/3.
        Assert.Equal((1 + (127 * 4) + 128) / (3 + Eps) / 256, s.MeanEMeasure, 1e-13);
        Assert.Equal(0.125, s.Mae, 1e-13);

        // S_object = ¼ · 2·0.5/(0.25 + 1 + eps) + ¾ · 1 = 0.95; S_region = 1 (single-pixel blocks); S = 0.975.
        Assert.Equal(0.95, PolypMetrics.SObject(p, m, 1), 1e-13);
        Assert.Equal(1, PolypMetrics.SRegion(p, m, 2, 2, 1), 1e-13);
        Assert.Equal(0.975, s.SMeasure, 1e-13);

        // Weighted F: every background pixel's nearest foreground pixel is (0, 0), so Et = 0.5 on the whole image;
        // EA(0, 0) = 0.5 (g0 + g1)² with zero padding; it is below E = 0.5, so Ew(0, 0) = EA, and background Ew = 0.
        double ea = 0.5 * (G(0) + G(1)) * (G(0) + G(1));
        double recall = 1 - ea, tpw = 1 - ea;
        double precision = tpw / (Eps + tpw);
        Assert.Equal(2 * recall * precision / (Eps + recall + precision), s.WeightedF, 1e-13);
    }

    [Fact]
    public void EmptyMaskScoresAreDefined()
    {
        // 0.2, 0.4, 0.6, 0.8 are 51/255, 102/255, 153/255, 204/255: they sit exactly on thresholds.
        double[] p = [0.2, 0.4, 0.6, 0.8];
        bool[] m = new bool[4];
        SegmentationScores s = PolypMetrics.Score(p, m, 2, 2);

        Assert.Equal(0, s.MeanDice);
        Assert.Equal(0, s.MeanIoU);
        Assert.Equal(0, s.WeightedF);
        Assert.Equal(0.5, s.SMeasure, 1e-13); // 1 − mean(P)
        Assert.Equal(0.5, s.Mae, 1e-13);
        // Empty G: E = #(B = 0)/(N − 1). #(B = 0) is 0 for k ≤ 51 (52 thresholds), then 1, 2, 3, 4 for 51 each.
        Assert.Equal(51.0 * (1 + 2 + 3 + 4) / (3 + Eps) / 256, s.MeanEMeasure, 1e-13);
        Assert.All(s.ToArray(), v => Assert.True(double.IsFinite(v)));
    }

    [Fact]
    public void FullMaskScoresAreDefined()
    {
        double[] p = [0.2, 0.4, 0.6, 0.8];
        bool[] m = [true, true, true, true];
        SegmentationScores s = PolypMetrics.Score(p, m, 2, 2);

        // |B| = 4 for k ≤ 51, 3, 2, 1 for the next 51 thresholds each, then 0: Dice 2|B|/(4 + |B|), IoU |B|/4.
        Assert.Equal(((52 * 1.0) + (51 * (6 / 7.0)) + (51 * (4 / 6.0)) + (51 * (2 / 5.0))) / 256, s.MeanDice, 1e-13);
        Assert.Equal(((52 * 1.0) + (51 * 0.75) + (51 * 0.5) + (51 * 0.25)) / 256, s.MeanIoU, 1e-13);
        // Full G: E = |B|/(N − 1).
        Assert.Equal(((52 * 4.0) + (51 * (3 + 2 + 1))) / (3 + Eps) / 256, s.MeanEMeasure, 1e-13);
        Assert.Equal(0.5, s.SMeasure, 1e-13); // mean(P)
        Assert.Equal(0.5, s.Mae, 1e-13);

        // Weighted F with no background: E = 1 − P = (0.8, 0.6, 0.4, 0.2); on a 2×2 image with zero padding every
        // pixel's blurred value is Σ over the four pixels of E · g(dx) g(dy) (|dx|, |dy| ≤ 1).
        double[] e = [0.8, 0.6, 0.4, 0.2];
        double lost = 0;
        for (int i = 0; i < 4; i++)
        {
            double blurred = 0;
            for (int j = 0; j < 4; j++)
            {
                blurred += e[j] * G(Math.Abs((i % 2) - (j % 2))) * G(Math.Abs((i / 2) - (j / 2)));
            }

            lost += Math.Min(e[i], blurred);
        }

        double recall = 1 - (lost / 4), tpw = 4 - lost;
        double precision = tpw / (Eps + tpw);
        Assert.Equal(2 * recall * precision / (Eps + recall + precision), s.WeightedF, 1e-13);
    }

    [Fact]
    public void PerfectPredictionMatchesTheClosedForms()
    {
        // A perfect map scores S = 1, wF = 1, MAE = 0; the threshold-averaged scores include the threshold 0 (every
        // pixel foreground), so they fall short of 1 by that one threshold, and the E-measure carries N/(N − 1).
        const int w = 19, h = 13;
        bool[] m = Disc(w, h, 8, 6, 4.5);
        double[] p = m.Select(v => v ? 1.0 : 0.0).ToArray();
        int n = w * h, g = m.Count(v => v);
        SegmentationScores s = PolypMetrics.Score(p, m, w, h);

        Assert.Equal(1, s.SMeasure, 1e-13);
        Assert.Equal(1, s.WeightedF, 1e-13);
        Assert.Equal(0, s.Mae);
        Assert.Equal((255 + (2.0 * g / (g + n))) / 256, s.MeanDice, 1e-13);
        Assert.Equal((255 + ((double)g / n)) / 256, s.MeanIoU, 1e-13);
        Assert.Equal(((255.0 * n) + (n / 4.0)) / (n - 1 + Eps) / 256, s.MeanEMeasure, 1e-13);
    }

    [Fact]
    public void InvertedPredictionScoresZero()
    {
        // The disc stays 3 pixels from the border, so the zero-padded Gaussian sees an error of 1 all around it.
        const int w = 20, h = 16;
        bool[] m = Disc(w, h, 10, 8, 3.5);
        double[] p = m.Select(v => v ? 0.0 : 1.0).ToArray();
        SegmentationScores s = PolypMetrics.Score(p, m, w, h);
        Assert.Equal(1, s.Mae);
        Assert.Equal(0, s.SMeasure);
        Assert.Equal(0, s.WeightedF, 1e-13);
    }

    [Fact]
    public void ScoresStayInRangeAndFiniteOnRandomMaps()
    {
        var rng = new Random(5);
        for (int trial = 0; trial < 40; trial++)
        {
            int w = rng.Next(1, 14), h = rng.Next(1, 14);
            double density = rng.NextDouble();
            bool[] m = Enumerable.Range(0, w * h).Select(_ => rng.NextDouble() < density).ToArray();
            double[] p = Enumerable.Range(0, w * h).Select(_ => rng.Next(4) == 0 ? rng.Next(2) : rng.NextDouble()).ToArray();
            if (w * h == 1)
            {
                continue; // the E-measure divides by N − 1 + eps
            }

            SegmentationScores s = PolypMetrics.Score(p, m, w, h);
            foreach (double v in (double[])[s.MeanDice, s.MeanIoU, s.WeightedF, s.SMeasure, s.Mae])
            {
                Assert.InRange(v, 0.0, 1 + 1e-12);
            }

            Assert.InRange(s.MeanEMeasure, 0.0, (double)(w * h) / ((w * h) - 1) + 1e-12);
        }
    }

    [Fact]
    public void ThresholdLevelsTieExactlyWithBytes()
    {
        for (int q = 0; q <= 255; q++)
        {
            Assert.Equal(q, PolypMetrics.Level(q / 255.0));
            if (q > 0)
            {
                Assert.Equal(q - 1, PolypMetrics.Level(Math.BitDecrement(q / 255.0)));
            }
        }

        Assert.Equal(255, PolypMetrics.Level(1.0));
        Assert.Equal(0, PolypMetrics.Level(0.0));
    }

    [Fact]
    public void MapFromBytesIsIm2DoubleThenMapMinMax()
    {
        Assert.Equal([0.0, 128 / 255.0, 1.0], PolypMetrics.MapFromBytes([0, 128, 255]));
        Assert.Equal([0.0, 0.5, 1.0], PolypMetrics.MapFromBytes([10, 20, 30]));
        Assert.Equal([7 / 255.0, 7 / 255.0], PolypMetrics.MapFromBytes([7, 7])); // constant: unchanged
    }

    [Fact]
    public void InvalidInputIsRejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => PolypMetrics.Score([0.5, 1.5], [true, false], 2, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => PolypMetrics.Score([0.5, double.NaN], [true, false], 2, 1));
        Assert.Throws<ArgumentException>(() => PolypMetrics.Score([0.5, 0.5], [true, false, true], 2, 1));
        Assert.Throws<ArgumentException>(() => SegmentationScores.Mean([]));
    }

    [Fact]
    public void CentroidRoundsHalfAwayFromZero()
    {
        // Foreground in 1-based columns 1 and 2 of row 1: mean column 1.5 → 2 (MATLAB's round), row 1.
        bool[] m = [true, true, false, false, false, false];
        Assert.Equal((2, 1), PolypMetrics.Centroid(m, 3, 2, 2));
    }

    [Fact]
    public void DistanceTransformMatchesBruteForceWithRowMajorTies()
    {
        var rng = new Random(11);
        for (int trial = 0; trial < 60; trial++)
        {
            int w = rng.Next(1, 18), h = rng.Next(1, 18);
            double density = trial % 3 == 0 ? 0.02 : rng.NextDouble() * 0.4;
            bool[] m = Enumerable.Range(0, w * h).Select(_ => rng.NextDouble() < density).ToArray();
            (double[] distance, int[] nearest) = PolypMetrics.DistanceTransform(m, w, h);
            for (int i = 0; i < w * h; i++)
            {
                long best = long.MaxValue;
                int bestIndex = -1;
                for (int j = 0; j < w * h; j++)
                {
                    if (!m[j])
                    {
                        continue;
                    }

                    long dx = (i % w) - (j % w), dy = (i / w) - (j / w);
                    long d2 = (dx * dx) + (dy * dy);
                    if (d2 < best)
                    {
                        best = d2;
                        bestIndex = j;
                    }
                }

                Assert.Equal(bestIndex, nearest[i]);
                Assert.Equal(bestIndex < 0 ? double.PositiveInfinity : Math.Sqrt(best), distance[i]);
            }
        }
    }

    [Fact]
    public void GaussianBlurIsTheTwoDimensionalKernelWithZeroPadding()
    {
        const int w = 9, h = 8;
        var rng = new Random(2);
        double[] image = Enumerable.Range(0, w * h).Select(_ => rng.NextDouble()).ToArray();
        double[] blurred = PolypMetrics.GaussianBlur(image, w, h);

        // The 2-D kernel exp(−(x² + y²)/50) normalised over the whole 7×7 window, applied directly.
        double total = 0;
        for (int y = -3; y <= 3; y++)
        {
            for (int x = -3; x <= 3; x++)
            {
                total += Math.Exp(-((x * x) + (y * y)) / 50.0);
            }
        }

        for (int y = 0; y < h; y++)
        {
            for (int x = 0; x < w; x++)
            {
                double sum = 0;
                for (int dy = -3; dy <= 3; dy++)
                {
                    for (int dx = -3; dx <= 3; dx++)
                    {
                        int yy = y + dy, xx = x + dx;
                        if (yy >= 0 && yy < h && xx >= 0 && xx < w)
                        {
                            sum += Math.Exp(-((dx * dx) + (dy * dy)) / 50.0) / total * image[(yy * w) + xx];
                        }
                    }
                }

                Assert.Equal(sum, blurred[(y * w) + x], 1e-13);
            }
        }
    }

    public static IEnumerable<object[]> GoldenCases() => MetricsGolden.Load().Select(c => new object[] { c.Name });

    [Theory]
    [MemberData(nameof(GoldenCases))]
    public void MatchesTheNumPyReference(string name)
    {
        MetricsGolden.Case c = MetricsGolden.Load().Single(x => x.Name == name);
        bool[] mask = c.Mask.Select(v => v != 0).ToArray();
        SegmentationScores s = PolypMetrics.Score(c.Prediction, mask, c.Width, c.Height);
        const double tolerance = 1e-12;
        Assert.Equal(c.MeanDice, s.MeanDice, tolerance);
        Assert.Equal(c.MeanIoU, s.MeanIoU, tolerance);
        Assert.Equal(c.WeightedF, s.WeightedF, tolerance);
        Assert.Equal(c.SMeasure, s.SMeasure, tolerance);
        Assert.Equal(c.MeanEMeasure, s.MeanEMeasure, tolerance);
        Assert.Equal(c.Mae, s.Mae, tolerance);

        long g = mask.LongCount(v => v);
        if (c.SObject is { } sObject)
        {
            Assert.Equal(sObject, PolypMetrics.SObject(c.Prediction, mask, g), tolerance);
            Assert.Equal(c.SRegion!.Value, PolypMetrics.SRegion(c.Prediction, mask, c.Width, c.Height, g), tolerance);
            Assert.Equal(((int)c.CentroidX!.Value, (int)c.CentroidY!.Value), PolypMetrics.Centroid(mask, c.Width, c.Height, g));
        }

        if (c.Dice is not null)
        {
            PolypMetrics.ThresholdCurves curves = PolypMetrics.Curves(c.Prediction, mask);
            for (int k = 0; k < PolypMetrics.Thresholds; k++)
            {
                Assert.Equal(c.Dice[k], curves.Dice[k], tolerance);
                Assert.Equal(c.Iou![k], curves.IoU[k], tolerance);
                Assert.Equal(c.EMeasure![k], curves.EMeasure[k], tolerance);
            }
        }
    }

    [Fact]
    public void GoldenFileCoversTheSpecialCases()
    {
        string[] names = [.. MetricsGolden.Load().Select(c => c.Name)];
        Assert.Contains("empty_mask_12x16", names);
        Assert.Contains("full_mask_10x12", names);
        Assert.Contains("last_column_mask_7x9", names);
        Assert.Contains("tied_nearest_9x11", names);
    }

    internal static bool[] Disc(int w, int h, double cx, double cy, double r)
    {
        var m = new bool[w * h];
        for (int y = 0; y < h; y++)
        {
            for (int x = 0; x < w; x++)
            {
                m[(y * w) + x] = ((x - cx) * (x - cx)) + ((y - cy) * (y - cy)) <= r * r;
            }
        }

        return m;
    }
}

/// <summary>tests/golden/metrics/metrics_cases.json (see its README.md), made by make_metrics_golden.py.</summary>
internal static class MetricsGolden
{
    private static readonly JsonSerializerOptions Options = new() { PropertyNameCaseInsensitive = true };
    private static IReadOnlyList<Case>? s_cases;

    public static string Folder => Path.Combine(AppContext.BaseDirectory, "golden", "metrics");

    public static IReadOnlyList<Case> Load() => s_cases ??= Read();

    private static List<Case> Read()
    {
        string path = Path.Combine(Folder, "metrics_cases.json");
        File file = JsonSerializer.Deserialize<File>(System.IO.File.ReadAllText(path), Options)
            ?? throw new InvalidDataException($"{path}: empty");
        foreach (Case c in file.Cases)
        {
            if (c.Prediction.Length != c.Width * c.Height || c.Mask.Length != c.Width * c.Height)
            {
                throw new InvalidDataException($"{path}: case {c.Name} does not hold {c.Width}×{c.Height} values.");
            }
        }

        return file.Cases;
    }

    internal sealed record File(List<Case> Cases);

    internal sealed record Case(
        string Name, int Width, int Height, double[] Prediction, int[] Mask,
        double MeanDice, double MeanIoU, double WeightedF, double SMeasure, double MeanEMeasure, double Mae,
        double? SObject, double? SRegion, double? CentroidX, double? CentroidY,
        double[]? Dice, double[]? Iou, double[]? EMeasure);
}
