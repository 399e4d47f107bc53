// Reading and writing the image files of a polyp data set with SkiaSharp, and resizing them the way PraNet's
// loader does (torchvision's Resize on PIL images: PIL's bilinear filter, which widens with the reduction factor).
using System;
using System.IO;
using System.Runtime.InteropServices;
using SkiaSharp;

namespace PraNet.Training;

/// <summary>An 8-bit image in memory: <c>Channels</c> interleaved bytes per pixel, row-major.</summary>
/// <param name="Width">Width in pixels.</param>
/// <param name="Height">Height in pixels.</param>
/// <param name="Channels">3 (RGB) or 1 (gray).</param>
/// <param name="Pixels">Width × Height × Channels bytes.</param>
public sealed record ByteImage(int Width, int Height, int Channels, byte[] Pixels);

/// <summary>Image files: decoding to RGB or gray, PNG output, and PIL-style resampling.</summary>
public static class ImageFiles
{
    /// <summary>The file extensions read as images (JPEG and PNG, any case).</summary>
    public static bool IsImageFile(string path) =>
        Path.GetExtension(path).ToLowerInvariant() is ".jpg" or ".jpeg" or ".png";

    /// <summary>
    /// Decodes a JPEG or PNG file to 8-bit RGB, like PIL's <c>convert('RGB')</c>: gray and palette images are
    /// expanded, an alpha channel is dropped (not composited), no colour management, no EXIF rotation.
    /// </summary>
    public static ByteImage ReadRgb(string path)
    {
        (int w, int h, byte[] rgba) = Decode(path);
        var rgb = new byte[w * h * 3];
        for (int i = 0; i < w * h; i++)
        {
            rgb[(3 * i) + 0] = rgba[(4 * i) + 0];
            rgb[(3 * i) + 1] = rgba[(4 * i) + 1];
            rgb[(3 * i) + 2] = rgba[(4 * i) + 2];
        }

        return new ByteImage(w, h, 3, rgb);
    }

    /// <summary>
    /// Decodes a JPEG or PNG file to 8-bit gray, like PIL's <c>convert('L')</c>: L = (19595 R + 38470 G + 7471 B + 2^15) / 2^16
    /// (ITU-R 601-2 luma in PIL's fixed point); a gray file keeps its values.
    /// </summary>
    public static ByteImage ReadGray(string path)
    {
        (int w, int h, byte[] rgba) = Decode(path);
        var gray = new byte[w * h];
        for (int i = 0; i < w * h; i++)
        {
            gray[i] = Luma(rgba[4 * i], rgba[(4 * i) + 1], rgba[(4 * i) + 2]);
        }

        return new ByteImage(w, h, 1, gray);
    }

    /// <summary>PIL's RGB → L conversion.</summary>
    public static byte Luma(byte r, byte g, byte b) => (byte)(((19595 * r) + (38470 * g) + (7471 * b) + 0x8000) >> 16);

    private static (int Width, int Height, byte[] Rgba) Decode(string path)
    {
        using SKCodec? codec = SKCodec.Create(path)
            ?? throw new InvalidDataException($"'{path}' is not an image SkiaSharp can decode (JPEG or PNG expected).");
        int w = codec.Info.Width, h = codec.Info.Height;
        var info = new SKImageInfo(w, h, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var rgba = new byte[w * h * 4];
        GCHandle pin = GCHandle.Alloc(rgba, GCHandleType.Pinned);
        try
        {
            SKCodecResult result = codec.GetPixels(info, pin.AddrOfPinnedObject());
            if (result is not (SKCodecResult.Success or SKCodecResult.IncompleteInput))
            {
                throw new InvalidDataException($"Decoding '{path}' failed: {result}.");
            }
        }
        finally
        {
            pin.Free();
        }

        return (w, h, rgba);
    }

    /// <summary>Writes an 8-bit gray image as a PNG file (lossless: reading it back gives the same bytes).</summary>
    public static void WriteGrayPng(string path, int width, int height, ReadOnlySpan<byte> pixels) =>
        Write(path, width, height, 1, pixels, SKEncodedImageFormat.Png, 100);

    /// <summary>Writes an 8-bit RGB or gray image as PNG or JPEG (<paramref name="quality"/> applies to JPEG).</summary>
    public static void Write(string path, int width, int height, int channels, ReadOnlySpan<byte> pixels, SKEncodedImageFormat format, int quality)
    {
        if (channels is not (1 or 3) || pixels.Length != width * height * channels)
        {
            throw new ArgumentException($"Expected {width} × {height} × {channels} bytes (1 or 3 channels), got {pixels.Length}.", nameof(pixels));
        }

        // Skia encodes gray PNGs from Gray8 and everything else from RGBA.
        bool gray = channels == 1 && format == SKEncodedImageFormat.Png;
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, gray ? SKColorType.Gray8 : SKColorType.Rgba8888, SKAlphaType.Opaque));
        int rowBytes = bitmap.RowBytes;
        var rows = new byte[rowBytes * height];
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                int src = ((y * width) + x) * channels;
                if (gray)
                {
                    rows[(y * rowBytes) + x] = pixels[src];
                    continue;
                }

                int dst = (y * rowBytes) + (4 * x);
                rows[dst] = pixels[src];
                rows[dst + 1] = pixels[channels == 3 ? src + 1 : src];
                rows[dst + 2] = pixels[channels == 3 ? src + 2 : src];
                rows[dst + 3] = 255;
            }
        }

        Marshal.Copy(rows, 0, bitmap.GetPixels(), rows.Length);
        using SKData data = bitmap.Encode(format, quality)
            ?? throw new InvalidOperationException($"SkiaSharp could not encode {format}.");
        string? folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder is not null)
        {
            Directory.CreateDirectory(folder);
        }

        using FileStream file = File.Create(path);
        data.SaveTo(file);
    }

    /// <summary>
    /// Resamples planar float images (<paramref name="channels"/> planes of W×H) to <paramref name="outWidth"/> ×
    /// <paramref name="outHeight"/> with PIL's bilinear filter, which torchvision's <c>Resize</c> uses on PIL images:
    /// a triangle filter on pixel centres whose support grows with the reduction factor (so downsizing averages
    /// like an area filter), weights renormalised at the borders; horizontal pass first, then vertical. PIL
    /// resamples 8-bit images in fixed point; this is the same filter in floating point.
    /// </summary>
    public static float[] ResizeBilinear(ReadOnlySpan<float> planes, int channels, int width, int height, int outWidth, int outHeight)
    {
        if (channels < 1 || width < 1 || height < 1 || outWidth < 1 || outHeight < 1 || planes.Length != channels * width * height)
        {
            throw new ArgumentException($"Expected {channels} planes of {width} × {height} and a positive output size.", nameof(planes));
        }

        (int[] xStart, double[][] xWeights) = Coefficients(width, outWidth);
        (int[] yStart, double[][] yWeights) = Coefficients(height, outHeight);
        var horizontal = new double[channels * height * outWidth];
        for (int c = 0; c < channels; c++)
        {
            for (int y = 0; y < height; y++)
            {
                int row = ((c * height) + y) * width;
                for (int x = 0; x < outWidth; x++)
                {
                    double sum = 0;
                    double[] w = xWeights[x];
                    for (int j = 0; j < w.Length; j++)
                    {
                        sum += w[j] * planes[row + xStart[x] + j];
                    }

                    horizontal[(((c * height) + y) * outWidth) + x] = sum;
                }
            }
        }

        var result = new float[channels * outHeight * outWidth];
        for (int c = 0; c < channels; c++)
        {
            for (int y = 0; y < outHeight; y++)
            {
                double[] w = yWeights[y];
                for (int x = 0; x < outWidth; x++)
                {
                    double sum = 0;
                    for (int j = 0; j < w.Length; j++)
                    {
                        sum += w[j] * horizontal[(((c * height) + yStart[y] + j) * outWidth) + x];
                    }

                    result[(((c * outHeight) + y) * outWidth) + x] = (float)sum;
                }
            }
        }

        return result;
    }

    /// <summary>
    /// The taps of one axis: output pixel i has its centre at (i + ½)·scale in input coordinates, scale = in/out;
    /// the triangle 1 − |t| is stretched by max(scale, 1), so it covers [centre − s, centre + s] with s = max(scale, 1);
    /// input pixel j (centre j + ½) gets weight tri((j + ½ − centre)/s), and the weights are normalised to sum 1.
    /// </summary>
    private static (int[] Start, double[][] Weights) Coefficients(int inSize, int outSize)
    {
        double scale = (double)inSize / outSize;
        double filterScale = Math.Max(scale, 1.0);
        double support = filterScale;
        var start = new int[outSize];
        var weights = new double[outSize][];
        for (int i = 0; i < outSize; i++)
        {
            double centre = (i + 0.5) * scale;
            int lo = Math.Max((int)Math.Floor(centre - support + 0.5), 0);
            int hi = Math.Min((int)Math.Floor(centre + support + 0.5), inSize);
            var w = new double[Math.Max(hi - lo, 0)];
            double total = 0;
            for (int j = 0; j < w.Length; j++)
            {
                double t = Math.Abs((lo + j + 0.5 - centre) / filterScale);
                w[j] = t < 1 ? 1 - t : 0;
                total += w[j];
            }

            if (total > 0)
            {
                for (int j = 0; j < w.Length; j++)
                {
                    w[j] /= total;
                }
            }

            start[i] = lo;
            weights[i] = w;
        }

        return (start, weights);
    }
}
