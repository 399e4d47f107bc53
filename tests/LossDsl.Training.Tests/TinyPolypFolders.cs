using System;
using System.IO;
using PraNet.Training;
using SkiaSharp;

namespace LossDsl.Training.Tests;

/// <summary>
/// Writes tiny polyp data sets to a temporary folder, in both layouts the demo reads: a Kvasir-SEG-like
/// images/ + masks/ folder of JPEGs, and PraNet's TrainDataset/{image,mask} + TestDataset/&lt;name&gt;/{images,masks}
/// with PNGs (one test set with JPEG images and PNG masks). Images have different sizes, none of them square.
/// </summary>
internal sealed class TinyPolypFolders : IDisposable
{
    public TinyPolypFolders()
    {
        Root = Path.Combine(Path.GetTempPath(), "lossdsl-pranet-" + Guid.NewGuid().ToString("N"));
        Kvasir = Path.Combine(Root, "Kvasir-tiny");
        PraNet = Path.Combine(Root, "pranet-data");
        WriteSet(Path.Combine(Kvasir, "images"), Path.Combine(Kvasir, "masks"), 12, seed: 1, SKEncodedImageFormat.Jpeg, SKEncodedImageFormat.Jpeg);
        WriteSet(Path.Combine(PraNet, "TrainDataset", "image"), Path.Combine(PraNet, "TrainDataset", "mask"), 8, seed: 2, SKEncodedImageFormat.Png, SKEncodedImageFormat.Png);
        WriteSet(Path.Combine(PraNet, "TestDataset", "CVC-tiny", "images"), Path.Combine(PraNet, "TestDataset", "CVC-tiny", "masks"), 3, seed: 3, SKEncodedImageFormat.Png, SKEncodedImageFormat.Png);
        WriteSet(Path.Combine(PraNet, "TestDataset", "Kvasir-tiny", "images"), Path.Combine(PraNet, "TestDataset", "Kvasir-tiny", "masks"), 2, seed: 4, SKEncodedImageFormat.Jpeg, SKEncodedImageFormat.Png);
    }

    public string Root { get; }

    /// <summary>images/*.jpg + masks/*.jpg, 12 pairs.</summary>
    public string Kvasir { get; }

    /// <summary>TrainDataset (8 PNG pairs) and TestDataset/CVC-tiny (3 PNG pairs), TestDataset/Kvasir-tiny (2 JPEG + PNG pairs).</summary>
    public string PraNet { get; }

    /// <summary>The image size of sample <paramref name="i"/>: between 40×28 and 58×46.</summary>
    public static (int Width, int Height) SizeOf(int i) => (40 + (i * 3 % 19), 28 + (i * 5 % 19));

    /// <summary>The binary mask of sample <paramref name="i"/> of a set with <paramref name="seed"/>: a disc.</summary>
    public static bool[] MaskOf(int i, int seed)
    {
        (int w, int h) = SizeOf(i);
        var rng = new Random((seed * 1000) + i);
        double cx = w * (0.3 + (0.4 * rng.NextDouble())), cy = h * (0.3 + (0.4 * rng.NextDouble()));
        double r = Math.Min(w, h) * (0.15 + (0.15 * rng.NextDouble()));
        return MetricsTests.Disc(w, h, cx, cy, r);
    }

    private static void WriteSet(string images, string masks, int count, int seed, SKEncodedImageFormat imageFormat, SKEncodedImageFormat maskFormat)
    {
        for (int i = 0; i < count; i++)
        {
            (int w, int h) = SizeOf(i);
            bool[] mask = MaskOf(i, seed);
            var rng = new Random((seed * 7919) + i);
            var rgb = new byte[w * h * 3];
            var gray = new byte[w * h];
            for (int p = 0; p < w * h; p++)
            {
                int noise = rng.Next(-12, 13);
                // Pink mucosa; the polyp redder and darker.
                rgb[3 * p] = (byte)Math.Clamp((mask[p] ? 200 : 225) + noise, 0, 255);
                rgb[(3 * p) + 1] = (byte)Math.Clamp((mask[p] ? 70 : 130) + noise, 0, 255);
                rgb[(3 * p) + 2] = (byte)Math.Clamp((mask[p] ? 60 : 120) + noise, 0, 255);
                gray[p] = mask[p] ? (byte)255 : (byte)0;
            }

            string stem = (i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture);
            ImageFiles.Write(Path.Combine(images, stem + Extension(imageFormat)), w, h, 3, rgb, imageFormat, 90);
            ImageFiles.Write(Path.Combine(masks, stem + Extension(maskFormat)), w, h, 1, gray, maskFormat, 90);
        }
    }

    private static string Extension(SKEncodedImageFormat format) => format == SKEncodedImageFormat.Png ? ".png" : ".jpg";

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // A temporary folder left behind is harmless.
        }
    }
}
