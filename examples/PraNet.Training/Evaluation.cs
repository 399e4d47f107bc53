// What an evaluated test set produces: one 8-bit prediction map per image (what PraNet's MyTest.py writes to
// results/<model>/<dataset>/<name>.png) and the six scores per image and per set.
using System;
using System.Collections.Generic;
using System.IO;

namespace PraNet.Training;

/// <summary>A prediction map as PraNet's test script writes it: 8-bit gray, the size of the image's mask.</summary>
/// <param name="Name">The PNG's file name: the image's name with the extension .png.</param>
/// <param name="Width">Width (the mask's).</param>
/// <param name="Height">Height (the mask's).</param>
/// <param name="Pixels">Width × Height bytes, row-major.</param>
public sealed record PredictionMap(string Name, int Width, int Height, byte[] Pixels)
{
    /// <summary>
    /// Quantises a probability map σ(upsampled logits) the way PraNet's MyTest.py does: min–max normalisation
    /// (p − min)/(max − min + 1e-8), then ×255 rounded to the nearest byte (half up). A constant map becomes all 0.
    /// </summary>
    /// <param name="imageName">The test image's file name; the map is named after it with the extension .png.</param>
    /// <param name="width">Width of the map.</param>
    /// <param name="height">Height of the map.</param>
    /// <param name="probabilities">Width × Height probabilities.</param>
    public static PredictionMap FromProbabilities(string imageName, int width, int height, ReadOnlySpan<double> probabilities)
    {
        ArgumentException.ThrowIfNullOrEmpty(imageName);
        if (width < 1 || height < 1 || probabilities.Length != width * height)
        {
            throw new ArgumentException($"Expected {width} × {height} probabilities, got {probabilities.Length}.", nameof(probabilities));
        }

        double min = double.PositiveInfinity, max = double.NegativeInfinity;
        foreach (double p in probabilities)
        {
            if (!double.IsFinite(p))
            {
                throw new ArgumentException($"The probability map of '{imageName}' holds {p}.", nameof(probabilities));
            }

            min = Math.Min(min, p);
            max = Math.Max(max, p);
        }

        var pixels = new byte[probabilities.Length];
        for (int i = 0; i < pixels.Length; i++)
        {
            double v = (probabilities[i] - min) / (max - min + 1e-8);
            pixels[i] = (byte)Math.Clamp(Math.Floor((v * 255) + 0.5), 0, 255);
        }

        return new PredictionMap(Path.ChangeExtension(imageName, ".png"), width, height, pixels);
    }

    /// <summary>Writes the map as <see cref="Name"/> into <paramref name="folder"/> and returns the file's path.</summary>
    public string Save(string folder)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        string path = Path.Combine(folder, Name);
        ImageFiles.WriteGrayPng(path, Width, Height, Pixels);
        return path;
    }
}

/// <summary>The evaluation of one test set.</summary>
/// <param name="Name">The test set's name.</param>
/// <param name="Maps">One prediction map per image, in the set's order.</param>
/// <param name="PerImage">The six scores of each image, in the same order.</param>
/// <param name="Mean">The set's row of the results table: the mean of each score over its images.</param>
public sealed record TestSetResult(string Name, IReadOnlyList<PredictionMap> Maps, IReadOnlyList<SegmentationScores> PerImage, SegmentationScores Mean)
{
    /// <summary>
    /// Writes every prediction map into <paramref name="folder"/>/&lt;set name&gt;/ (PraNet's results/&lt;model&gt;/&lt;dataset&gt;/
    /// layout) and returns that folder.
    /// </summary>
    public string SaveMaps(string folder)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        string target = Path.Combine(folder, SafeFolderName(Name));
        Directory.CreateDirectory(target);
        foreach (PredictionMap map in Maps)
        {
            map.Save(target);
        }

        return target;
    }

    /// <summary>A set name as a folder name: characters that cannot appear in a file name, and spaces, become '_'.</summary>
    public static string SafeFolderName(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        char[] invalid = Path.GetInvalidFileNameChars();
        var chars = name.ToCharArray();
        for (int i = 0; i < chars.Length; i++)
        {
            if (Array.IndexOf(invalid, chars[i]) >= 0 || char.IsWhiteSpace(chars[i]))
            {
                chars[i] = '_';
            }
        }

        return new string(chars);
    }
}

/// <summary>The results table: one row per test set with its image count and six mean scores.</summary>
public static class ResultsTable
{
    /// <summary>The CSV header: test set, images, then the six scores in <see cref="SegmentationScores.Names"/> order.</summary>
    public static string Header => "test_set,images," + string.Join(",", SegmentationScores.Names);

    /// <summary>Writes the table as CSV (invariant culture, six decimals; names with a comma or quote are quoted).</summary>
    public static void WriteCsv(string path, IReadOnlyList<TestSetResult> results)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(results);
        var lines = new List<string> { Header };
        foreach (TestSetResult r in results)
        {
            string name = r.Name.Contains(',', StringComparison.Ordinal) || r.Name.Contains('"', StringComparison.Ordinal)
                ? "\"" + r.Name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\""
                : r.Name;
            var cells = new List<string> { name, r.Maps.Count.ToString(System.Globalization.CultureInfo.InvariantCulture) };
            foreach (double v in r.Mean.ToArray())
            {
                cells.Add(v.ToString("F6", System.Globalization.CultureInfo.InvariantCulture));
            }

            lines.Add(string.Join(",", cells));
        }

        File.WriteAllLines(path, lines);
    }
}
