// Real polyp data sets on disk, in the layouts PraNet's users have them:
//
//   Kvasir-SEG, CVC-ClinicDB, ...      DIR/images/*.jpg|png  +  DIR/masks/*.jpg|png   (same file names)
//   PraNet's training split            TrainDataset/image/*.png  +  TrainDataset/mask/*.png
//   PraNet's test sets                 TestDataset/<name>/images/*  +  TestDataset/<name>/masks/*
//
// "image"/"images" and "mask"/"masks" are both accepted; an image and its mask are paired by file name without
// extension (Kvasir-SEG ships JPEG masks, CVC-ClinicDB PNG ones). Images load as RGB, masks as gray; both are
// resized to the training size with PIL's bilinear filter as PraNet's loader does (the mask stays soft for the
// loss), and every test image also keeps its mask at full size, binarised at gray > 128, for the evaluation.
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading.Tasks;

namespace PraNet.Training;

/// <summary>An image file and its mask file.</summary>
/// <param name="Name">The image's file name (what the prediction PNG is named after).</param>
/// <param name="ImagePath">Path of the image.</param>
/// <param name="MaskPath">Path of the mask.</param>
public sealed record ImagePair(string Name, string ImagePath, string MaskPath);

/// <summary>A named list of image/mask pairs: one training folder or one test set.</summary>
/// <param name="Name">The set's name (its folder name).</param>
/// <param name="Pairs">The pairs, ordered by file name.</param>
public sealed record PairList(string Name, IReadOnlyList<ImagePair> Pairs);

/// <summary>Where the training images and the test sets of a run come from.</summary>
/// <param name="Train">The training pairs.</param>
/// <param name="Tests">The test sets; empty when none was found (the caller then holds out part of the training pairs).</param>
public sealed record DataSources(PairList Train, IReadOnlyList<PairList> Tests);

/// <summary>Finds and loads polyp data sets in PraNet's folder layouts.</summary>
public static class PolypFolders
{
    private static readonly string[] ImageFolders = ["images", "image"];
    private static readonly string[] MaskFolders = ["masks", "mask"];

    /// <summary>True when <paramref name="dir"/> holds an image folder and a mask folder (images/masks or image/mask).</summary>
    public static bool IsPairFolder(string dir) => Find(dir, ImageFolders) is not null && Find(dir, MaskFolders) is not null;

    /// <summary>
    /// The image/mask pairs of a folder in the images/ + masks/ layout, ordered by file name. Throws
    /// <see cref="DirectoryNotFoundException"/> or <see cref="InvalidDataException"/> with the reason when the folder
    /// is not such a folder, holds no image, or an image has no mask.
    /// </summary>
    public static PairList ReadPairs(string dir)
    {
        ArgumentException.ThrowIfNullOrEmpty(dir);
        if (!Directory.Exists(dir))
        {
            throw new DirectoryNotFoundException($"Data folder '{dir}' does not exist.");
        }

        string images = Find(dir, ImageFolders)
            ?? throw new InvalidDataException($"'{dir}' has no images/ (or image/) folder; expected images/ and masks/ with matching file names.");
        string masks = Find(dir, MaskFolders)
            ?? throw new InvalidDataException($"'{dir}' has no masks/ (or mask/) folder; expected images/ and masks/ with matching file names.");
        var maskByStem = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string mask in Directory.EnumerateFiles(masks).Where(ImageFiles.IsImageFile).Order(StringComparer.Ordinal))
        {
            maskByStem.TryAdd(Path.GetFileNameWithoutExtension(mask), mask);
        }

        var pairs = new List<ImagePair>();
        var missing = new List<string>();
        foreach (string image in Directory.EnumerateFiles(images).Where(ImageFiles.IsImageFile).Order(StringComparer.Ordinal))
        {
            string name = Path.GetFileName(image);
            if (maskByStem.TryGetValue(Path.GetFileNameWithoutExtension(image), out string? mask))
            {
                pairs.Add(new ImagePair(name, image, mask));
            }
            else
            {
                missing.Add(name);
            }
        }

        if (missing.Count > 0)
        {
            throw new InvalidDataException(
                $"{missing.Count} image(s) in '{images}' have no mask of the same name in '{masks}', for example '{missing[0]}'.");
        }

        if (pairs.Count == 0)
        {
            throw new InvalidDataException($"'{images}' holds no JPEG or PNG image.");
        }

        return new PairList(FolderName(dir), pairs);
    }

    /// <summary>
    /// The test sets under <paramref name="dir"/>: the folder itself when it is an images/ + masks/ folder, otherwise
    /// each of its subfolders that is one (PraNet's TestDataset/&lt;name&gt;/), by name.
    /// </summary>
    public static IReadOnlyList<PairList> ReadTestSets(string dir)
    {
        ArgumentException.ThrowIfNullOrEmpty(dir);
        if (!Directory.Exists(dir))
        {
            throw new DirectoryNotFoundException($"Test data folder '{dir}' does not exist.");
        }

        if (IsPairFolder(dir))
        {
            return [ReadPairs(dir)];
        }

        var sets = Directory.EnumerateDirectories(dir).Order(StringComparer.Ordinal).Where(IsPairFolder).Select(ReadPairs).ToList();
        if (sets.Count == 0)
        {
            throw new InvalidDataException($"'{dir}' is neither an images/ + masks/ folder nor a folder of such test sets.");
        }

        return sets;
    }

    /// <summary>
    /// Resolves <c>--data</c> and <c>--test-data</c>: <paramref name="data"/> is an images/ + masks/ folder, or
    /// PraNet's data root holding TrainDataset/ (and TestDataset/, whose sets are the test sets unless
    /// <paramref name="testData"/> names others).
    /// </summary>
    public static DataSources Resolve(string data, IReadOnlyList<string> testData)
    {
        ArgumentException.ThrowIfNullOrEmpty(data);
        ArgumentNullException.ThrowIfNull(testData);
        PairList train;
        IReadOnlyList<PairList> tests = [];
        string root = Path.Combine(data, "TrainDataset");
        if (!IsPairFolder(data) && Directory.Exists(root))
        {
            train = ReadPairs(root);
            string testRoot = Path.Combine(data, "TestDataset");
            if (testData.Count == 0 && Directory.Exists(testRoot))
            {
                tests = ReadTestSets(testRoot);
            }
        }
        else
        {
            train = ReadPairs(data);
        }

        if (testData.Count > 0)
        {
            tests = [.. testData.SelectMany(ReadTestSets)];
        }

        return new DataSources(train, tests);
    }

    /// <summary>
    /// Splits <paramref name="pairs"/> into a training part and a held-out part of <paramref name="heldOut"/> pairs,
    /// chosen by a shuffle seeded with <paramref name="seed"/> (each part keeps file-name order).
    /// </summary>
    public static (PairList Train, PairList HeldOut) Split(PairList pairs, int heldOut, int seed)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        if (heldOut < 1 || heldOut >= pairs.Pairs.Count)
        {
            throw new ArgumentException(
                $"Cannot hold out {heldOut} of the {pairs.Pairs.Count} images of '{pairs.Name}': at least one must remain on each side.", nameof(heldOut));
        }

        int[] order = [.. Enumerable.Range(0, pairs.Pairs.Count)];
        new Random(seed).Shuffle(order);
        var held = order.Take(heldOut).Order().Select(i => pairs.Pairs[i]).ToList();
        var rest = order.Skip(heldOut).Order().Select(i => pairs.Pairs[i]).ToList();
        return (new PairList(pairs.Name, rest), new PairList($"{pairs.Name}-held-out", held));
    }

    /// <summary>Loads training pairs: images (RGB in [0, 1]) and soft masks (gray / 255), both resized to <paramref name="size"/>².</summary>
    public static PolypDataset LoadTraining(PairList pairs, int size)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        (float[] images, float[] masks, _) = Load(pairs, size, keepMasks: false);
        return PolypDataset.FromArrays(pairs.Pairs.Count, size, images, masks);
    }

    /// <summary>Loads a test set: the network's inputs at <paramref name="size"/>², and every mask at full size, binarised at gray &gt; 128.</summary>
    public static TestSet LoadTestSet(PairList pairs, int size)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        (float[] images, float[] masks, GroundTruth[] truths) = Load(pairs, size, keepMasks: true);
        return new TestSet(pairs.Name, PolypDataset.FromArrays(pairs.Pairs.Count, size, images, masks), truths);
    }

    private static (float[] Images, float[] Masks, GroundTruth[] Truths) Load(PairList pairs, int size, bool keepMasks)
    {
        int count = pairs.Pairs.Count, plane = size * size;
        var images = new float[count * 3 * plane];
        var masks = new float[count * plane];
        var truths = new GroundTruth[keepMasks ? count : 0];
        var options = new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount };
        try
        {
            Parallel.For(0, count, options, i => LoadOne(pairs.Pairs[i], i));
        }
        catch (AggregateException e) when (e.InnerExceptions.Count > 0)
        {
            // Report the first bad file, not an AggregateException.
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e.InnerExceptions[0]);
        }

        return (images, masks, truths);

        void LoadOne(ImagePair pair, int i)
        {
            ByteImage image = ImageFiles.ReadRgb(pair.ImagePath);
            ByteImage mask = ImageFiles.ReadGray(pair.MaskPath);
            if (image.Width != mask.Width || image.Height != mask.Height)
            {
                throw new InvalidDataException(
                    $"'{pair.ImagePath}' is {image.Width}×{image.Height} but its mask '{pair.MaskPath}' is {mask.Width}×{mask.Height}.");
            }

            int n = image.Width * image.Height;
            var rgb = new float[3 * n];
            for (int p = 0; p < n; p++)
            {
                for (int c = 0; c < 3; c++)
                {
                    rgb[(c * n) + p] = image.Pixels[(3 * p) + c] / 255f;
                }
            }

            var gray = new float[n];
            var binary = new bool[n];
            for (int p = 0; p < n; p++)
            {
                gray[p] = mask.Pixels[p] / 255f;
                binary[p] = mask.Pixels[p] > 128;
            }

            ImageFiles.ResizeBilinear(rgb, 3, image.Width, image.Height, size, size).CopyTo(images, i * 3 * plane);
            ImageFiles.ResizeBilinear(gray, 1, mask.Width, mask.Height, size, size).CopyTo(masks, i * plane);
            if (keepMasks)
            {
                truths[i] = new GroundTruth(pair.Name, mask.Width, mask.Height, binary);
            }
        }
    }

    private static string? Find(string dir, string[] names)
    {
        foreach (string name in names)
        {
            string path = Path.Combine(dir, name);
            if (Directory.Exists(path))
            {
                return path;
            }
        }

        return null;
    }

    private static string FolderName(string dir) =>
        Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(dir)));
}
