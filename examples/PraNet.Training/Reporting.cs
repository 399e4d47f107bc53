// What the user sees: a progress bar per epoch (or plain lines when stdout is not a terminal), a per-epoch
// quality line, a loss / Dice curve (ScottPlot) and a grid of held-out images, masks and predictions (SkiaSharp).
using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using SkiaSharp;
using Spectre.Console;

namespace PraNet.Training;

/// <summary>Console output of the training demo.</summary>
public static class ConsoleReport
{
    /// <summary>True when stdout is an interactive terminal (progress bars and colours); false in CI and pipes.</summary>
    public static bool Interactive => !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;

    /// <summary>Runs <paramref name="trainEpoch"/> under a progress bar (or plain step lines) and returns its summary.</summary>
    public static EpochSummary Epoch(int epoch, int epochs, int steps, Func<Action<StepInfo>, EpochSummary> trainEpoch)
    {
        if (!Interactive)
        {
            int every = Math.Max(1, steps / 4);
            return trainEpoch(s =>
            {
                if (s.Step % every == 0 || s.Step == s.Steps)
                {
                    Console.WriteLine(Invariant($"epoch {epoch}/{epochs} step {s.Step}/{s.Steps}  loss {s.Loss:F4}  {s.ImagesPerSecond:F0} img/s"));
                }
            });
        }

        EpochSummary? summary = null;
        AnsiConsole.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(),
                new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                ProgressTask task = ctx.AddTask(Invariant($"epoch {epoch}/{epochs}"), maxValue: steps);
                summary = trainEpoch(s =>
                {
                    task.Description = Invariant($"epoch {epoch}/{epochs}  loss [yellow]{s.Loss,7:F4}[/]  {s.ImageSize,3}px  [grey]{s.ImagesPerSecond,5:F0} img/s[/]");
                    task.Value = s.Step;
                });
            });
        return summary!;
    }

    /// <summary>Prints the held-out quality after an epoch.</summary>
    public static void EpochLine(EpochSummary e, double baselineDice)
    {
        string text = Invariant(
            $"epoch {e.Epoch}: train loss {e.TrainLoss:F4}  held-out Dice {e.HeldOut.Dice:F3}  IoU {e.HeldOut.IoU:F3}  (all-background Dice {baselineDice:F3})  {e.Seconds:F1} s, {e.ImagesPerSecond:F0} img/s");
        if (Interactive)
        {
            AnsiConsole.MarkupLine($"[green]{Markup.Escape(text)}[/]");
        }
        else
        {
            Console.WriteLine(text);
        }
    }

    /// <summary>Prints the results table: one row per test set, its image count and PraNet's six metrics.</summary>
    public static void Results(IReadOnlyList<TestSetResult> results)
    {
        ArgumentNullException.ThrowIfNull(results);
        string[] headers = ["test set", "images", .. SegmentationScores.Names];
        var rows = results.Select(r => (string[])[r.Name, Invariant($"{r.Maps.Count}"), .. r.Mean.ToArray().Select(v => Invariant($"{v:F4}"))]).ToList();
        if (Interactive)
        {
            var table = new Table().Border(TableBorder.Rounded).Title("[bold]PraNet's metrics per test set[/]");
            foreach (string h in headers)
            {
                table.AddColumn(new TableColumn(Markup.Escape(h)) { Alignment = h == "test set" ? Justify.Left : Justify.Right });
            }

            foreach (string[] row in rows)
            {
                table.AddRow(row.Select(Markup.Escape).ToArray());
            }

            AnsiConsole.Write(table);
            return;
        }

        int[] widths = [.. headers.Select((h, c) => Math.Max(h.Length, rows.Count == 0 ? 0 : rows.Max(r => r[c].Length)))];
        Console.WriteLine(string.Join("  ", headers.Select((h, c) => c == 0 ? h.PadRight(widths[c]) : h.PadLeft(widths[c]))));
        foreach (string[] row in rows)
        {
            Console.WriteLine(string.Join("  ", row.Select((v, c) => c == 0 ? v.PadRight(widths[c]) : v.PadLeft(widths[c]))));
        }
    }

    /// <summary>Prints a line, with markup on a terminal and without it elsewhere.</summary>
    public static void Line(string markup)
    {
        if (Interactive)
        {
            AnsiConsole.MarkupLine(markup);
        }
        else
        {
            Console.WriteLine(Markup.Remove(markup));
        }
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}

/// <summary>The PNG files of a run.</summary>
public static class Figures
{
    /// <summary>
    /// Writes the training-loss curve (per step, and its per-epoch mean) and the held-out Dice / IoU per epoch,
    /// with the all-background Dice for reference, as one PNG with two panels.
    /// </summary>
    public static void Curves(string path, TrainingResult result, int stepsPerEpoch)
    {
        ArgumentNullException.ThrowIfNull(result);
        var loss = new ScottPlot.Plot();
        if (result.Epochs.Count == 0)
        {
            throw new ArgumentException("There are no epochs to plot.", nameof(result));
        }

        // A resumed run starts after the checkpoint's epochs; its first quality point is the network as loaded.
        int before = result.Epochs[0].Epoch - 1;
        double[] stepX = Enumerable.Range(1, result.StepLosses.Count).Select(i => before + ((double)i / stepsPerEpoch)).ToArray();
        var steps = loss.Add.ScatterLine(stepX, result.StepLosses.ToArray());
        steps.LegendText = "loss per step";
        steps.Color = ScottPlot.Colors.SteelBlue.WithAlpha(0.5);
        double[] epochX = result.Epochs.Select(e => (double)e.Epoch).ToArray();
        var means = loss.Add.Scatter(epochX, result.Epochs.Select(e => e.TrainLoss).ToArray());
        means.LegendText = "epoch mean";
        means.Color = ScottPlot.Colors.Navy;
        means.LineWidth = 2;
        means.MarkerSize = 7;
        loss.Title("Training loss (Σ structure loss over 4 side outputs)");
        loss.XLabel("epoch");
        loss.YLabel("loss");
        loss.ShowLegend(ScottPlot.Alignment.UpperRight);

        var quality = new ScottPlot.Plot();
        double[] qx = [before, .. epochX];
        var dice = quality.Add.Scatter(qx, [result.Initial.Dice, .. result.Epochs.Select(e => e.HeldOut.Dice)]);
        dice.LegendText = "Dice";
        dice.LineWidth = 2;
        dice.MarkerSize = 7;
        var iou = quality.Add.Scatter(qx, [result.Initial.IoU, .. result.Epochs.Select(e => e.HeldOut.IoU)]);
        iou.LegendText = "IoU";
        iou.LineWidth = 2;
        iou.MarkerSize = 7;
        var baseline = quality.Add.HorizontalLine(result.BaselineDice);
        baseline.LegendText = "all-background Dice";
        baseline.LinePattern = ScottPlot.LinePattern.Dashed;
        baseline.Color = ScottPlot.Colors.Gray;
        quality.Axes.SetLimitsY(0, 1);
        quality.Title("Held-out segmentation quality (σ > 0.5)");
        quality.XLabel(before == 0 ? "epoch (0 = untrained)" : string.Create(CultureInfo.InvariantCulture, $"epoch ({before} = the checkpoint this run resumed from)"));
        quality.YLabel("score");
        quality.ShowLegend(ScottPlot.Alignment.LowerRight);

        const int width = 900, height = 380;
        using var surface = SKSurface.Create(new SKImageInfo(width, 2 * height));
        SKCanvas canvas = surface.Canvas;
        canvas.Clear(SKColors.White);
        using (var top = loss.GetImage(width, height))
        using (var topImage = SKImage.FromEncodedData(top.GetImageBytes()))
        using (var bottom = quality.GetImage(width, height))
        using (var bottomImage = SKImage.FromEncodedData(bottom.GetImageBytes()))
        {
            canvas.DrawImage(topImage, 0, 0);
            canvas.DrawImage(bottomImage, 0, height);
        }

        Save(surface, path);
    }

    /// <summary>
    /// Writes a grid of held-out samples: one row per sample with the image, the ground-truth mask, the predicted
    /// probability σ(pred) and the image with the mask outline (green) and the prediction σ &gt; 0.5 (red) overlaid.
    /// </summary>
    public static void Samples(string path, PolypDataset data, float[] probabilities, int rows, int scale = 2)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(probabilities);
        rows = Math.Min(rows, data.Count);
        int s = data.Size, cell = s * scale, gap = 4, header = 22;
        int width = (4 * cell) + (5 * gap), height = header + (rows * cell) + ((rows + 1) * gap);
        using var surface = SKSurface.Create(new SKImageInfo(width, height));
        SKCanvas canvas = surface.Canvas;
        canvas.Clear(new SKColor(32, 32, 32));
        using var font = new SKFont(LabelTypeface(), 13);
        using var ink = new SKPaint { Color = SKColors.White, IsAntialias = true };
        string[] titles = ["image", "mask", "σ(prediction)", "overlay"];
        for (int c = 0; c < 4; c++)
        {
            canvas.DrawText(titles[c], gap + (c * (cell + gap)) + 2, header - 6, font, ink);
        }

        int plane = s * s;
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<float> image = data.Images.AsSpan(r * 3 * plane, 3 * plane);
            ReadOnlySpan<float> mask = data.Masks.AsSpan(r * plane, plane);
            ReadOnlySpan<float> prob = probabilities.AsSpan(r * plane, plane);
            var tiles = new SKBitmap[4];
            for (int c = 0; c < 4; c++)
            {
                tiles[c] = new SKBitmap(s, s, SKColorType.Rgba8888, SKAlphaType.Opaque);
            }

            for (int y = 0; y < s; y++)
            {
                for (int x = 0; x < s; x++)
                {
                    int i = (y * s) + x;
                    SKColor pixel = new(Byte(image[i]), Byte(image[plane + i]), Byte(image[(2 * plane) + i]));
                    tiles[0].SetPixel(x, y, pixel);
                    byte m = Byte(mask[i]), p = Byte(prob[i]);
                    tiles[1].SetPixel(x, y, new SKColor(m, m, m));
                    tiles[2].SetPixel(x, y, new SKColor(p, p, p));
                    bool edge = IsEdge(mask, s, x, y, v => v > 0.5f);
                    bool predicted = prob[i] > 0.5f;
                    tiles[3].SetPixel(x, y, edge ? new SKColor(0, 255, 0)
                        : predicted ? new SKColor((byte)((pixel.Red + 255) / 2), (byte)(pixel.Green / 2), (byte)(pixel.Blue / 2)) : pixel);
                }
            }

            for (int c = 0; c < 4; c++)
            {
                var dest = SKRect.Create(gap + (c * (cell + gap)), header + gap + (r * (cell + gap)), cell, cell);
                using var tile = SKImage.FromBitmap(tiles[c]);
                canvas.DrawImage(tile, dest, new SKSamplingOptions(SKFilterMode.Nearest));
                tiles[c].Dispose();
            }
        }

        Save(surface, path);
    }

    private static bool IsEdge(ReadOnlySpan<float> mask, int s, int x, int y, Func<float, bool> inside)
    {
        if (!inside(mask[(y * s) + x]))
        {
            return false;
        }

        return (x > 0 && !inside(mask[(y * s) + x - 1])) || (x < s - 1 && !inside(mask[(y * s) + x + 1]))
            || (y > 0 && !inside(mask[((y - 1) * s) + x])) || (y < s - 1 && !inside(mask[((y + 1) * s) + x]));
    }

    private static byte Byte(float v) => (byte)Math.Clamp((int)MathF.Round(v * 255f), 0, 255);

    /// <summary>A typeface for the labels: the default one, or DejaVu Sans where the default has no glyphs (no fontconfig).</summary>
    private static SKTypeface LabelTypeface()
    {
        SKTypeface typeface = SKTypeface.Default;
        if (typeface.GlyphCount > 0)
        {
            return typeface;
        }

        foreach (string candidate in (IEnumerable<string>)["/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/TTF/DejaVuSans.ttf"])
        {
            if (File.Exists(candidate) && SKTypeface.FromFile(candidate) is { } loaded)
            {
                return loaded;
            }
        }

        return typeface;
    }

    private static void Save(SKSurface surface, string path)
    {
        using SKImage image = surface.Snapshot();
        using SKData png = image.Encode(SKEncodedImageFormat.Png, 100);
        using FileStream file = File.Create(path);
        png.SaveTo(file);
    }
}
