using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;

namespace LossDsl.Tests;

/// <summary>
/// One tests/golden/multiclass/*.json file (made by tests/golden/make_multiclass_golden.py and make_class_golden.py with PyTorch): logits, one-hot
/// or probability targets, the loss and d loss / d logits in float64. <see cref="Loss"/> and <see cref="Grad"/> are null
/// where PyTorch's result is NaN (every pixel ignored).
/// </summary>
public sealed record MultiClassGolden(string File, string Name, LossShape Shape, double[] Pred, double[] Mask, double? Loss, double[]? Grad)
{
    /// <summary>The tensor shape as the file gives it: N, C, H, W, or N, C, D, H, W for a volume.</summary>
    public long[] Dims { get; init; } = [];

    /// <summary>The folder the test projects copy the files into.</summary>
    public static string Directory => Path.Combine(AppContext.BaseDirectory, "golden", "multiclass");

    /// <summary>The loss names, as the files' prefixes (before the shape), that the ready-made losses cover.</summary>
    public static readonly string[] Names = ["ce", "ce_smooth", "softmax_dice", "dice_ce", "logsumexp_mean", "nnunet_dc_ce", "nnunet_dc_ce_sample", "monai_dice_ce_fg", "monai_dice_ce_batch", "smp_dice", "smp_dice_multilabel", "smp_jaccard", "smp_tversky", "smp_focal", "volume_structure", "volume_structure7", "volume_nnunet_dc_ce"];

    public static IEnumerable<string> Files() =>
        System.IO.Directory.Exists(Directory)
            ? System.IO.Directory.EnumerateFiles(Directory, "*.json").Select(Path.GetFileName).OfType<string>().OrderBy(f => f, StringComparer.Ordinal)
            : Enumerable.Empty<string>();

    /// <summary>The loss a file is for: the longest name of <see cref="Names"/> it starts with, followed by '_' and a digit.</summary>
    public static string LossOf(string file) =>
        Names.OrderByDescending(n => n.Length).FirstOrDefault(n => file.StartsWith(n + "_", StringComparison.Ordinal) && file.Length > n.Length + 1 && char.IsDigit(file[n.Length + 1]))
        ?? Names.OrderByDescending(n => n.Length).First(n => file.StartsWith(n + "_", StringComparison.Ordinal));

    public static MultiClassGolden Load(string file)
    {
        using var doc = JsonDocument.Parse(System.IO.File.ReadAllText(Path.Combine(Directory, file)));
        var root = doc.RootElement;
        int[] d = root.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        var shape = d.Length == 5 ? new LossShape(d[0], d[1], d[2], d[3], d[4]) : new LossShape(d[0], d[1], d[2], d[3]);
        double[] Read(string name) => root.GetProperty(name).EnumerateArray().Select(e => e.GetDouble()).ToArray();
        var loss = root.GetProperty("loss");
        var grad = root.GetProperty("grad");
        var c = new MultiClassGolden(
            file,
            LossOf(file),
            shape,
            Read("pred"),
            Read("mask"),
            loss.ValueKind == JsonValueKind.Null ? null : loss.GetDouble(),
            grad.ValueKind == JsonValueKind.Null ? null : Read("grad"))
        {
            Dims = Array.ConvertAll(d, v => (long)v),
        };
        if (c.Pred.Length != shape.Length || c.Mask.Length != shape.Length || (c.Grad is { } g && g.Length != shape.Length))
        {
            throw new InvalidDataException($"{file}: array lengths do not match {shape}");
        }

        return c;
    }
}
