// The six scores polyp-segmentation papers report since PraNet (MICCAI 2020), per test set: mean Dice, mean IoU,
// weighted F-measure, S-measure, mean E-measure and MAE. Written here from the papers' definitions, with the
// conventions of the evaluation code those papers' numbers come from:
//
//   [PraNet-eval]  PraNet's MATLAB "EvaluationTool" (main.m, Fmeasure_calu.m, StructureMeasure.m, S_object.m,
//                  S_region.m, original_WFb.m, Enhancedmeasure.m; first version 2020-06-28), which Polyp-PVT,
//                  SANet, CaraNet, ... reuse, and its Python port in UACANet (run/Eval.py, Thresholds =
//                  linspace(1, 0, 256), binarisation pred >= threshold).
//   [PySOD]        PySODMetrics 1.6.2 (py_sod_metrics/sod_metrics.py), the maintained Python implementation of
//                  the same measures; used here for the cases the MATLAB code leaves undefined (NaN).
//
// Per image, the prediction P is a map in [0, 1] (the published pipeline: logits upsampled to the mask's size,
// sigmoid, min–max normalised, written as an 8-bit PNG, read back with im2double and mapminmax) and the ground
// truth G is binary (the mask's gray value > 128). N = H·W pixels, |G| foreground pixels, eps = MATLAB's eps =
// 2^-52. Per test set every score is the plain mean over images.
using System;
using System.Collections.Generic;

namespace PraNet.Training;

/// <summary>PraNet's six evaluation scores of one image, or their means over a test set.</summary>
/// <param name="MeanDice">Dice of P ≥ t averaged over the 256 thresholds t = 0, 1/255, …, 1 ("meanDic").</param>
/// <param name="MeanIoU">IoU of P ≥ t averaged over the same thresholds ("meanIoU").</param>
/// <param name="WeightedF">Weighted F-measure, β² = 1 (Margolin et al., CVPR 2014; "wFm").</param>
/// <param name="SMeasure">Structure measure, α = 0.5 (Fan et al., ICCV 2017; "Sm").</param>
/// <param name="MeanEMeasure">Enhanced-alignment measure of P ≥ t averaged over the thresholds (Fan et al., IJCAI 2018; "meanEm").</param>
/// <param name="Mae">Mean absolute error between P and G ("MAE").</param>
public sealed record SegmentationScores(double MeanDice, double MeanIoU, double WeightedF, double SMeasure, double MeanEMeasure, double Mae)
{
    /// <summary>The column names used in the results table and CSV, in the order of the record's members.</summary>
    public static IReadOnlyList<string> Names { get; } = ["meanDic", "meanIoU", "wFm", "Sm", "meanEm", "MAE"];

    /// <summary>The six values in the order of <see cref="Names"/>.</summary>
    public double[] ToArray() => [MeanDice, MeanIoU, WeightedF, SMeasure, MeanEMeasure, Mae];

    /// <summary>The mean of each score over <paramref name="scores"/> (how a test set's row is formed).</summary>
    public static SegmentationScores Mean(IReadOnlyList<SegmentationScores> scores)
    {
        ArgumentNullException.ThrowIfNull(scores);
        if (scores.Count == 0)
        {
            throw new ArgumentException("At least one image is needed to average scores.", nameof(scores));
        }

        double dice = 0, iou = 0, wf = 0, s = 0, e = 0, mae = 0;
        foreach (SegmentationScores x in scores)
        {
            dice += x.MeanDice;
            iou += x.MeanIoU;
            wf += x.WeightedF;
            s += x.SMeasure;
            e += x.MeanEMeasure;
            mae += x.Mae;
        }

        int n = scores.Count;
        return new SegmentationScores(dice / n, iou / n, wf / n, s / n, e / n, mae / n);
    }
}

/// <summary>
/// PraNet's evaluation metrics on one prediction map and one binary mask (row-major, <c>index = y·width + x</c>).
/// </summary>
public static class PolypMetrics
{
    /// <summary>MATLAB's <c>eps</c> (2^-52), which the reference formulas add to denominators.</summary>
    public const double Eps = 2.220446049250313e-16;

    /// <summary>The number of thresholds of the "mean" scores: t = k/255 for k = 0 … 255 ([PraNet-eval]: <c>1:-1/255:0</c>).</summary>
    public const int Thresholds = 256;

    /// <summary>All six scores of one image.</summary>
    /// <param name="prediction">The prediction map, values in [0, 1].</param>
    /// <param name="mask">The binary ground truth.</param>
    /// <param name="width">Image width.</param>
    /// <param name="height">Image height.</param>
    public static SegmentationScores Score(ReadOnlySpan<double> prediction, ReadOnlySpan<bool> mask, int width, int height)
    {
        Check(prediction, mask, width, height);
        ThresholdCurves curves = Curves(prediction, mask);
        return new SegmentationScores(
            Average(curves.Dice), Average(curves.IoU), WeightedF(prediction, mask, width, height),
            SMeasure(prediction, mask, width, height), Average(curves.EMeasure), Mae(prediction, mask));
    }

    /// <summary>
    /// The map the published evaluation reads from an 8-bit prediction PNG: <c>im2double</c> (v/255) then MATLAB's
    /// <c>mapminmax(·, 0, 1)</c>. When the bytes span 0 … 255 (as PraNet's test script writes them) this is exactly
    /// v/255; otherwise (v − min)/(max − min); a constant map is left as v/255, as <c>mapminmax</c> and [PySOD] leave it.
    /// </summary>
    public static double[] MapFromBytes(ReadOnlySpan<byte> pixels)
    {
        var map = new double[pixels.Length];
        if (pixels.IsEmpty)
        {
            return map;
        }

        byte min = 255, max = 0;
        foreach (byte v in pixels)
        {
            min = Math.Min(min, v);
            max = Math.Max(max, v);
        }

        bool stretch = max > min && (min != 0 || max != 255);
        for (int i = 0; i < pixels.Length; i++)
        {
            map[i] = stretch ? (double)(pixels[i] - min) / (max - min) : pixels[i] / 255.0;
        }

        return map;
    }

    // ---- Dice, IoU and E-measure at the 256 thresholds ----

    /// <summary>Dice, IoU and E-measure of the binarised map P ≥ k/255, for k = 0 … 255 (index k).</summary>
    /// <param name="Dice">2|B ∩ G| / (|B| + |G|), and 0 when B ∩ G is empty.</param>
    /// <param name="IoU">|B ∩ G| / |B ∪ G|, and 0 when B ∩ G is empty.</param>
    /// <param name="EMeasure">The E-measure of B against G.</param>
    public sealed record ThresholdCurves(double[] Dice, double[] IoU, double[] EMeasure);

    /// <summary>
    /// The per-threshold Dice, IoU and E-measure. The binarisation is B = P ≥ k/255 ([PraNet-eval]'s
    /// <c>Fmeasure_calu</c>, UACANet and [PySOD]; PraNet's 2020 main.m binarises with "&gt;" for the E-measure only,
    /// which on 8-bit maps gives the same mean whenever G is neither empty nor full: it trades the all-foreground map
    /// for the empty one, and both score ¼ per pixel). Following [PraNet-eval]'s <c>Fmeasure_calu</c>, Dice and IoU
    /// are 0 when no foreground pixel is predicted correctly, so an image whose mask is empty scores 0 at every
    /// threshold, whatever is predicted.
    /// <para>
    /// Ties are exact here: a pixel equal to a threshold counts as foreground. The reference code's thresholds
    /// (MATLAB's <c>1:-1/255:0</c>, NumPy's <c>linspace(1, 0, 256)</c>) differ from k/255 in the last bit for about
    /// 100 of the 256 values, so on 8-bit maps it puts the pixels that equal a threshold on either side of it by rounding.
    /// </para>
    /// </summary>
    public static ThresholdCurves Curves(ReadOnlySpan<double> prediction, ReadOnlySpan<bool> mask)
    {
        if (prediction.Length != mask.Length || prediction.IsEmpty)
        {
            throw new ArgumentException("The prediction and the mask must have the same, non-zero number of pixels.", nameof(mask));
        }

        CheckRange(prediction);

        // Histogram of the threshold level of every pixel: level(p) = the largest k with p >= k/255, computed
        // with the same expression k / 255.0 the thresholds use, so maps of bytes / 255 tie exactly.
        Span<long> foreground = stackalloc long[Thresholds];
        Span<long> background = stackalloc long[Thresholds];
        foreground.Clear();
        background.Clear();
        for (int i = 0; i < prediction.Length; i++)
        {
            int level = Level(prediction[i]);
            if (mask[i])
            {
                foreground[level]++;
            }
            else
            {
                background[level]++;
            }
        }

        long n = prediction.Length, g = 0;
        foreach (long c in foreground)
        {
            g += c;
        }

        var dice = new double[Thresholds];
        var iou = new double[Thresholds];
        var e = new double[Thresholds];
        long tp = 0, predicted = 0;
        for (int k = Thresholds - 1; k >= 0; k--)
        {
            // Pixels with level >= k are exactly those with p >= k/255.
            tp += foreground[k];
            predicted += foreground[k] + background[k];
            dice[k] = tp == 0 ? 0 : 2.0 * tp / (g + predicted);
            iou[k] = tp == 0 ? 0 : (double)tp / (g + predicted - tp);
            e[k] = EMeasure(n, g, predicted, tp);
        }

        return new ThresholdCurves(dice, iou, e);
    }

    /// <summary>
    /// The E-measure (Fan et al., "Enhanced-alignment Measure for Binary Foreground Map Evaluation", IJCAI 2018) of a
    /// binary map B against G, from the four counts it depends on. With φ_B = B − mean(B) and φ_G = G − mean(G) per
    /// pixel, the alignment ξ = 2 φ_G φ_B / (φ_G² + φ_B² + eps), the enhanced alignment (1 + ξ)² / 4, and the score
    /// Σ enhanced / (N − 1 + eps) ([PraNet-eval]'s Enhancedmeasure.m, including its N − 1). Special cases as there:
    /// an empty G scores Σ(1 − B) / (N − 1 + eps), a full G scores Σ B / (N − 1 + eps).
    /// </summary>
    /// <param name="pixels">N.</param>
    /// <param name="foreground">|G|.</param>
    /// <param name="predicted">|B|.</param>
    /// <param name="truePositives">|B ∩ G|.</param>
    public static double EMeasure(long pixels, long foreground, long predicted, long truePositives)
    {
        double sum;
        if (foreground == 0)
        {
            sum = pixels - predicted;
        }
        else if (foreground == pixels)
        {
            sum = predicted;
        }
        else
        {
            double muB = (double)predicted / pixels, muG = (double)foreground / pixels;
            sum = (truePositives * Enhanced(1 - muB, 1 - muG))
                + ((predicted - truePositives) * Enhanced(1 - muB, -muG))
                + ((foreground - truePositives) * Enhanced(-muB, 1 - muG))
                + ((pixels - predicted - foreground + truePositives) * Enhanced(-muB, -muG));
        }

        return sum / (pixels - 1 + Eps);
    }

    private static double Enhanced(double phiB, double phiG)
    {
        double align = 2 * phiG * phiB / ((phiG * phiG) + (phiB * phiB) + Eps);
        return (align + 1) * (align + 1) / 4;
    }

    /// <summary>The threshold level of a value in [0, 1]: the largest k in 0 … 255 with <c>p &gt;= k / 255.0</c>.</summary>
    public static int Level(double p)
    {
        int k = Math.Clamp((int)(p * 255), 0, Thresholds - 1);
        while (k + 1 < Thresholds && p >= (k + 1) / 255.0)
        {
            k++;
        }

        while (k > 0 && p < k / 255.0)
        {
            k--;
        }

        return k;
    }

    private static double Average(double[] values)
    {
        double sum = 0;
        foreach (double v in values)
        {
            sum += v;
        }

        return sum / values.Length;
    }

    // ---- MAE ----

    /// <summary>Mean absolute error Σ|P − G| / N (Perazzi et al., CVPR 2012; [PraNet-eval]'s main.m).</summary>
    public static double Mae(ReadOnlySpan<double> prediction, ReadOnlySpan<bool> mask)
    {
        if (prediction.Length != mask.Length || prediction.IsEmpty)
        {
            throw new ArgumentException("The prediction and the mask must have the same, non-zero number of pixels.", nameof(mask));
        }

        CheckRange(prediction);
        double sum = 0;
        for (int i = 0; i < prediction.Length; i++)
        {
            sum += Math.Abs(prediction[i] - (mask[i] ? 1.0 : 0.0));
        }

        return sum / prediction.Length;
    }

    // ---- Weighted F-measure ----

    /// <summary>
    /// The weighted F-measure (Margolin, Zelnik-Manor and Tal, "How to Evaluate Foreground Maps?", CVPR 2014), as
    /// [PraNet-eval]'s original_WFb.m computes it with β² = 1:
    /// <list type="number">
    /// <item>E = |P − G|; each background pixel takes the error of its nearest foreground pixel (Euclidean distance
    /// transform of G with nearest-pixel indices, MATLAB's <c>[D, IDX] = bwdist(G)</c>), giving Et.</item>
    /// <item>Pixel dependency: EA = Et correlated with a 7×7 Gaussian, σ = 5 (<c>fspecial('gaussian', 7, 5)</c>,
    /// normalised to sum 1), zero padding (<c>imfilter</c>'s default); inside G the error becomes min(E, EA).</item>
    /// <item>Pixel importance: background errors are weighted by B = 2 − exp(ln(0.5)/5 · D), foreground ones by 1.</item>
    /// <item>With Ew the weighted errors: TPw = |G| − Σ_G Ew, FPw = Σ_¬G Ew, recall R = 1 − mean_G(Ew),
    /// precision P = TPw / (eps + TPw + FPw), and the score 2RP / (eps + R + P).</item>
    /// </list>
    /// An empty G scores 0, as in [PySOD] (the MATLAB code returns NaN there: mean over no pixels). Among several
    /// nearest foreground pixels the first in row-major order is taken (MATLAB does not document its choice).
    /// </summary>
    public static double WeightedF(ReadOnlySpan<double> prediction, ReadOnlySpan<bool> mask, int width, int height)
    {
        Check(prediction, mask, width, height);
        int n = prediction.Length;
        long g = 0;
        foreach (bool m in mask)
        {
            g += m ? 1 : 0;
        }

        if (g == 0)
        {
            return 0;
        }

        (double[] distance, int[] nearest) = DistanceTransform(mask, width, height);
        var error = new double[n];
        var spread = new double[n];
        for (int i = 0; i < n; i++)
        {
            error[i] = Math.Abs(prediction[i] - (mask[i] ? 1.0 : 0.0));
        }

        for (int i = 0; i < n; i++)
        {
            spread[i] = error[nearest[i]];
        }

        double[] blurred = GaussianBlur(spread, width, height);
        double decay = Math.Log(1 - 0.5) / 5;
        double tpLoss = 0, fpw = 0;
        for (int i = 0; i < n; i++)
        {
            if (mask[i])
            {
                tpLoss += blurred[i] < error[i] ? blurred[i] : error[i];
            }
            else
            {
                fpw += error[i] * (2.0 - Math.Exp(decay * distance[i]));
            }
        }

        double tpw = g - tpLoss;
        double recall = 1 - (tpLoss / g);
        double precision = tpw / (Eps + tpw + fpw);
        return 2 * recall * precision / (Eps + recall + precision);
    }

    /// <summary>
    /// <c>fspecial('gaussian', 7, 5)</c> applied with <c>imfilter</c> (correlation, zero padding, same size). The
    /// kernel exp(−(x² + y²)/(2σ²)) normalised to sum 1 is the outer product of its normalised 1-D factor, so it is
    /// applied as two 7-tap passes.
    /// </summary>
    public static double[] GaussianBlur(double[] image, int width, int height)
    {
        const int radius = 3;
        const double sigma = 5;
        Span<double> kernel = stackalloc double[(2 * radius) + 1];
        double total = 0;
        for (int i = -radius; i <= radius; i++)
        {
            kernel[i + radius] = Math.Exp(-(i * i) / (2 * sigma * sigma));
            total += kernel[i + radius];
        }

        for (int i = 0; i < kernel.Length; i++)
        {
            kernel[i] /= total;
        }

        var rows = new double[image.Length];
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                double sum = 0;
                for (int d = -radius; d <= radius; d++)
                {
                    int xx = x + d;
                    if (xx >= 0 && xx < width)
                    {
                        sum += kernel[d + radius] * image[(y * width) + xx];
                    }
                }

                rows[(y * width) + x] = sum;
            }
        }

        var result = new double[image.Length];
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                double sum = 0;
                for (int d = -radius; d <= radius; d++)
                {
                    int yy = y + d;
                    if (yy >= 0 && yy < height)
                    {
                        sum += kernel[d + radius] * rows[(yy * width) + x];
                    }
                }

                result[(y * width) + x] = sum;
            }
        }

        return result;
    }

    /// <summary>
    /// Exact Euclidean distance transform of the foreground of <paramref name="mask"/>: for every pixel the distance to
    /// the nearest foreground pixel and that pixel's index (0 and itself on the foreground). Two separable passes of
    /// the lower-envelope algorithm (Felzenszwalb and Huttenlocher, "Distance Transforms of Sampled Functions", 2012)
    /// in exact integer arithmetic: along rows, then along columns, each keeping the earlier candidate on a tie, so
    /// among equally near foreground pixels the first in row-major order wins. Pixels of an image without foreground
    /// get +∞ and index −1.
    /// </summary>
    public static (double[] Distance, int[] Nearest) DistanceTransform(ReadOnlySpan<bool> mask, int width, int height)
    {
        if (width <= 0 || height <= 0 || mask.Length != width * height)
        {
            throw new ArgumentException($"The mask must hold width × height = {width} × {height} pixels.", nameof(mask));
        }

        int n = width * height;
        // Pass 1, along each row: the nearest foreground column in the same row (the left one on a tie).
        var rowColumn = new int[n];
        for (int y = 0; y < height; y++)
        {
            int row = y * width, last = -1;
            for (int x = 0; x < width; x++)
            {
                if (mask[row + x])
                {
                    last = x;
                }

                rowColumn[row + x] = last;
            }

            int next = -1;
            for (int x = width - 1; x >= 0; x--)
            {
                if (mask[row + x])
                {
                    next = x;
                }

                int left = rowColumn[row + x];
                if (next >= 0 && (left < 0 || next - x < x - left))
                {
                    rowColumn[row + x] = next;
                }
            }
        }

        // Pass 2, along each column: minimise (y − y')² + h(y') over the rows y' that have foreground, where
        // h(y') = (x − rowColumn(y', x))²; the parabolas' lower envelope is built with exact rational breakpoints.
        var distance = new double[n];
        var nearest = new int[n];
        var vertex = new int[height];
        var height2 = new long[height];
        var startNum = new long[height];
        var startDen = new long[height];
        for (int x = 0; x < width; x++)
        {
            int count = 0;
            for (int q = 0; q < height; q++)
            {
                int column = rowColumn[(q * width) + x];
                if (column < 0)
                {
                    continue;
                }

                long h = (long)(x - column) * (x - column);
                long sNum = 0, sDen = 1;
                while (count > 0)
                {
                    int v = vertex[count - 1];
                    // Intersection of the parabolas of v and q: s = ((h_q + q²) − (h_v + v²)) / (2(q − v)).
                    sNum = h + ((long)q * q) - (height2[count - 1] + ((long)v * v));
                    sDen = 2L * (q - v);
                    bool dominated = count > 1 && sNum * startDen[count - 1] <= startNum[count - 1] * sDen;
                    if (!dominated)
                    {
                        break;
                    }

                    count--;
                }

                vertex[count] = q;
                height2[count] = h;
                startNum[count] = count == 0 ? 0 : sNum;
                startDen[count] = count == 0 ? 1 : sDen;
                count++;
            }

            int k = 0;
            for (int y = 0; y < height; y++)
            {
                int i = (y * width) + x;
                if (count == 0)
                {
                    distance[i] = double.PositiveInfinity;
                    nearest[i] = -1;
                    continue;
                }

                // Move on only when the next parabola starts strictly before y: a tie keeps the earlier row.
                while (k + 1 < count && startNum[k + 1] < (long)y * startDen[k + 1])
                {
                    k++;
                }

                int v = vertex[k];
                distance[i] = Math.Sqrt(((long)(y - v) * (y - v)) + height2[k]);
                nearest[i] = (v * width) + rowColumn[(v * width) + x];
            }
        }

        return (distance, nearest);
    }

    // ---- S-measure ----

    /// <summary>
    /// The structure measure (Fan, Cheng, Liu, Li and Borji, "Structure-measure: A New Way to Evaluate Foreground
    /// Maps", ICCV 2017) as [PraNet-eval]'s StructureMeasure.m, S_object.m and S_region.m compute it:
    /// S = α·S_object + (1 − α)·S_region, α = 0.5, clamped at 0; an empty G scores 1 − mean(P), a full G mean(P).
    /// <list type="bullet">
    /// <item>S_object = μ·O(P on G) + (1 − μ)·O(1 − P off G), μ = |G|/N, O(v) = 2 mean(v) / (mean(v)² + 1 + std(v) + eps)
    /// with the sample (N − 1) standard deviation (0 for one pixel, as MATLAB's <c>std</c>).</item>
    /// <item>S_region: G's centroid (X, Y) = round of the 1-based mean column and row of the foreground (MATLAB's
    /// <c>round</c>, half away from zero) splits both maps into rows 1…Y / Y+1…H and columns 1…X / X+1…W; the four
    /// blocks' SSIM-like scores are weighted by their areas. A block's score: with means x, y, variances and covariance
    /// normalised by (n − 1 + eps), α' = 4xy·σxy and β' = (x² + y²)(σx² + σy²): α'/(β' + eps) if α' ≠ 0, 1 if α' = β' = 0,
    /// else 0.</item>
    /// </list>
    /// Two details differ from the MATLAB code only where it would return NaN or decide by rounding noise: an empty
    /// block (the centroid on the last row or column; its weight is 0) contributes 0, and means are computed with
    /// one correction pass, so a constant block has exactly zero variance.
    /// </summary>
    public static double SMeasure(ReadOnlySpan<double> prediction, ReadOnlySpan<bool> mask, int width, int height, double alpha = 0.5)
    {
        Check(prediction, mask, width, height);
        int n = prediction.Length;
        long g = 0;
        foreach (bool m in mask)
        {
            g += m ? 1 : 0;
        }

        if (g == 0)
        {
            return 1.0 - Mean(prediction);
        }

        if (g == n)
        {
            return Mean(prediction);
        }

        double q = (alpha * SObject(prediction, mask, g)) + ((1 - alpha) * SRegion(prediction, mask, width, height, g));
        return Math.Max(q, 0);
    }

    /// <summary>The object-aware part of the S-measure (see <see cref="SMeasure"/>).</summary>
    public static double SObject(ReadOnlySpan<double> prediction, ReadOnlySpan<bool> mask, long foreground)
    {
        var inside = new List<double>((int)foreground);
        var outside = new List<double>(prediction.Length - (int)foreground);
        for (int i = 0; i < prediction.Length; i++)
        {
            if (mask[i])
            {
                inside.Add(prediction[i]);
            }
            else
            {
                outside.Add(1.0 - prediction[i]);
            }
        }

        double u = (double)foreground / prediction.Length;
        return (u * ObjectScore(inside)) + ((1 - u) * ObjectScore(outside));
    }

    private static double ObjectScore(List<double> values)
    {
        if (values.Count == 0)
        {
            return 0;
        }

        double mean = Mean(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(values));
        double squares = 0;
        foreach (double v in values)
        {
            squares += (v - mean) * (v - mean);
        }

        double std = values.Count > 1 ? Math.Sqrt(squares / (values.Count - 1)) : 0;
        return 2.0 * mean / ((mean * mean) + 1.0 + std + Eps);
    }

    /// <summary>The region-aware part of the S-measure (see <see cref="SMeasure"/>).</summary>
    public static double SRegion(ReadOnlySpan<double> prediction, ReadOnlySpan<bool> mask, int width, int height, long foreground)
    {
        (int cx, int cy) = Centroid(mask, width, height, foreground);
        double area = (double)width * height;
        double w1 = (double)cx * cy / area;
        double w2 = (double)(width - cx) * cy / area;
        double w3 = (double)cx * (height - cy) / area;
        double w4 = 1.0 - w1 - w2 - w3;
        return (w1 * BlockSsim(prediction, mask, width, 0, cy, 0, cx))
            + (w2 * BlockSsim(prediction, mask, width, 0, cy, cx, width))
            + (w3 * BlockSsim(prediction, mask, width, cy, height, 0, cx))
            + (w4 * BlockSsim(prediction, mask, width, cy, height, cx, width));
    }

    /// <summary>
    /// The split point of S_region: (X, Y) = round(1-based mean column, 1-based mean row) of the foreground, so the
    /// left blocks hold the 0-based columns 0 … X − 1 and the top blocks the rows 0 … Y − 1.
    /// </summary>
    public static (int X, int Y) Centroid(ReadOnlySpan<bool> mask, int width, int height, long foreground)
    {
        if (foreground == 0)
        {
            return ((int)Math.Round(width / 2.0, MidpointRounding.AwayFromZero), (int)Math.Round(height / 2.0, MidpointRounding.AwayFromZero));
        }

        long sumX = 0, sumY = 0;
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                if (mask[(y * width) + x])
                {
                    sumX += x + 1;
                    sumY += y + 1;
                }
            }
        }

        return ((int)Math.Round((double)sumX / foreground, MidpointRounding.AwayFromZero),
            (int)Math.Round((double)sumY / foreground, MidpointRounding.AwayFromZero));
    }

    private static double BlockSsim(ReadOnlySpan<double> prediction, ReadOnlySpan<bool> mask, int width, int y0, int y1, int x0, int x1)
    {
        long count = (long)(y1 - y0) * (x1 - x0);
        if (count <= 0)
        {
            return 0;
        }

        // Means with one correction pass (exact for constant blocks).
        double sumP = 0, sumG = 0;
        for (int y = y0; y < y1; y++)
        {
            for (int x = x0; x < x1; x++)
            {
                sumP += prediction[(y * width) + x];
                sumG += mask[(y * width) + x] ? 1 : 0;
            }
        }

        double mx = sumP / count, my = sumG / count;
        double fixP = 0, fixG = 0;
        for (int y = y0; y < y1; y++)
        {
            for (int x = x0; x < x1; x++)
            {
                fixP += prediction[(y * width) + x] - mx;
                fixG += (mask[(y * width) + x] ? 1 : 0) - my;
            }
        }

        mx += fixP / count;
        my += fixG / count;
        double sxx = 0, syy = 0, sxy = 0;
        for (int y = y0; y < y1; y++)
        {
            for (int x = x0; x < x1; x++)
            {
                double dp = prediction[(y * width) + x] - mx;
                double dg = (mask[(y * width) + x] ? 1 : 0) - my;
                sxx += dp * dp;
                syy += dg * dg;
                sxy += dp * dg;
            }
        }

        double norm = count - 1 + Eps;
        double varX = sxx / norm, varY = syy / norm, cov = sxy / norm;
        double a = 4 * mx * my * cov;
        double b = ((mx * mx) + (my * my)) * (varX + varY);
        if (a != 0)
        {
            return a / (b + Eps);
        }

        return b == 0 ? 1.0 : 0.0;
    }

    private static double Mean(ReadOnlySpan<double> values)
    {
        if (values.IsEmpty)
        {
            return 0;
        }

        double sum = 0;
        foreach (double v in values)
        {
            sum += v;
        }

        double mean = sum / values.Length;
        double fix = 0;
        foreach (double v in values)
        {
            fix += v - mean;
        }

        return mean + (fix / values.Length);
    }

    private static void Check(ReadOnlySpan<double> prediction, ReadOnlySpan<bool> mask, int width, int height)
    {
        if (width <= 0 || height <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(width), $"The image size must be positive (got {width} × {height}).");
        }

        if (prediction.Length != (long)width * height || mask.Length != prediction.Length)
        {
            throw new ArgumentException(
                $"The prediction ({prediction.Length} values) and the mask ({mask.Length} values) must both hold {width} × {height} pixels.", nameof(mask));
        }

        CheckRange(prediction);
    }

    private static void CheckRange(ReadOnlySpan<double> prediction)
    {
        foreach (double p in prediction)
        {
            if (!(p >= 0 && p <= 1))
            {
                throw new ArgumentOutOfRangeException(nameof(prediction), p, "Prediction values must lie in [0, 1] (normalise the map first).");
            }
        }
    }
}
