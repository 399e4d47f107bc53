using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using PraNet.Training;
using Xunit;

namespace LossDsl.Training.Tests;

/// <summary>Reading PraNet's folder layouts, and the loader's resize and gray conversion against Pillow.</summary>
public sealed class LoaderTests : IDisposable
{
    private readonly TinyPolypFolders _folders = new();

    public void Dispose() => _folders.Dispose();

    [Fact]
    public void KvasirLayoutHasNoTestSetOfItsOwn()
    {
        DataSources sources = PolypFolders.Resolve(_folders.Kvasir, []);
        Assert.Equal("Kvasir-tiny", sources.Train.Name);
        Assert.Equal(12, sources.Train.Pairs.Count);
        Assert.Empty(sources.Tests);
        Assert.All(sources.Train.Pairs, p => Assert.Equal(Path.GetFileNameWithoutExtension(p.ImagePath), Path.GetFileNameWithoutExtension(p.MaskPath)));
        Assert.Equal(["1.jpg", "10.jpg", "11.jpg", "12.jpg", "2.jpg"], sources.Train.Pairs.Take(5).Select(p => p.Name));
    }

    [Fact]
    public void PraNetLayoutFindsTrainAndTestDatasets()
    {
        DataSources sources = PolypFolders.Resolve(_folders.PraNet, []);
        Assert.Equal("TrainDataset", sources.Train.Name);
        Assert.Equal(8, sources.Train.Pairs.Count);
        Assert.Equal(["CVC-tiny", "Kvasir-tiny"], sources.Tests.Select(t => t.Name));
        Assert.Equal([3, 2], sources.Tests.Select(t => t.Pairs.Count));
        Assert.EndsWith(".png", sources.Tests[1].Pairs[0].MaskPath, StringComparison.Ordinal);
        Assert.EndsWith(".jpg", sources.Tests[1].Pairs[0].ImagePath, StringComparison.Ordinal);
    }

    [Fact]
    public void TestDataOptionReplacesTestDataset()
    {
        DataSources sources = PolypFolders.Resolve(_folders.PraNet, [_folders.Kvasir, Path.Combine(_folders.PraNet, "TestDataset")]);
        Assert.Equal(["Kvasir-tiny", "CVC-tiny", "Kvasir-tiny"], sources.Tests.Select(t => t.Name));
    }

    [Fact]
    public void SplitIsSeededAndDisjoint()
    {
        PairList all = PolypFolders.ReadPairs(_folders.Kvasir);
        (PairList train, PairList held) = PolypFolders.Split(all, 3, seed: 9);
        (PairList train2, PairList held2) = PolypFolders.Split(all, 3, seed: 9);
        Assert.Equal(held.Pairs, held2.Pairs);
        Assert.Equal(train.Pairs, train2.Pairs);
        Assert.Equal(3, held.Pairs.Count);
        Assert.Equal(9, train.Pairs.Count);
        Assert.Empty(held.Pairs.Intersect(train.Pairs));
        Assert.Equal("Kvasir-tiny-held-out", held.Name);
        Assert.Throws<ArgumentException>(() => PolypFolders.Split(all, 12, seed: 9));
    }

    [Fact]
    public void MissingMaskIsAClearError()
    {
        File.Delete(Path.Combine(_folders.Kvasir, "masks", "7.jpg"));
        var e = Assert.Throws<InvalidDataException>(() => PolypFolders.ReadPairs(_folders.Kvasir));
        Assert.Contains("7.jpg", e.Message, StringComparison.Ordinal);
        Assert.Throws<DirectoryNotFoundException>(() => PolypFolders.ReadPairs(Path.Combine(_folders.Root, "nowhere")));
        Assert.Throws<InvalidDataException>(() => PolypFolders.ReadTestSets(_folders.Root));
    }

    [Fact]
    public void TestSetKeepsFullSizeBinaryMasks()
    {
        PairList cvc = PolypFolders.ReadTestSets(Path.Combine(_folders.PraNet, "TestDataset"))[0];
        TestSet set = PolypFolders.LoadTestSet(cvc, 32);
        Assert.Equal("CVC-tiny", set.Name);
        Assert.Equal(3, set.Data.Count);
        Assert.Equal(32, set.Data.Size);
        for (int i = 0; i < 3; i++)
        {
            (int w, int h) = TinyPolypFolders.SizeOf(i);
            GroundTruth truth = set.Truths[i];
            Assert.Equal((w, h), (truth.Width, truth.Height));
            Assert.Equal(TinyPolypFolders.MaskOf(i, seed: 3), truth.Mask); // PNG: lossless
        }

        Assert.All(set.Data.Images, v => Assert.InRange(v, 0f, 1f));
        Assert.All(set.Data.Masks, v => Assert.InRange(v, 0f, 1f));
        Assert.Contains(set.Data.Masks, v => v is > 0f and < 1f); // resized masks are soft
    }

    [Fact]
    public void JpegMasksAreBinarisedAt128()
    {
        PairList kvasir = PolypFolders.ReadPairs(_folders.Kvasir);
        TestSet set = PolypFolders.LoadTestSet(kvasir, 16);
        for (int i = 0; i < set.Truths.Count; i++)
        {
            int index = int.Parse(Path.GetFileNameWithoutExtension(set.Truths[i].Name), System.Globalization.CultureInfo.InvariantCulture) - 1;
            bool[] expected = TinyPolypFolders.MaskOf(index, seed: 1);
            int wrong = expected.Zip(set.Truths[i].Mask).Count(t => t.First != t.Second);
            Assert.True(wrong <= expected.Length / 100, $"{set.Truths[i].Name}: {wrong} of {expected.Length} mask pixels changed by JPEG");
        }
    }

    [Fact]
    public void TrainingImagesAreTheResizedFiles()
    {
        PairList train = PolypFolders.ReadPairs(Path.Combine(_folders.PraNet, "TrainDataset"));
        PolypDataset data = PolypFolders.LoadTraining(train, 16);
        ByteImage first = ImageFiles.ReadRgb(train.Pairs[0].ImagePath);
        int n = first.Width * first.Height;
        var planes = new float[3 * n];
        for (int p = 0; p < n; p++)
        {
            for (int c = 0; c < 3; c++)
            {
                planes[(c * n) + p] = first.Pixels[(3 * p) + c] / 255f;
            }
        }

        float[] expected = ImageFiles.ResizeBilinear(planes, 3, first.Width, first.Height, 16, 16);
        Assert.Equal(expected, data.Images.AsSpan(0, 3 * 256).ToArray());
    }

    [Fact]
    public void PngRoundTripKeepsBytes()
    {
        var rng = new Random(3);
        byte[] pixels = new byte[23 * 17];
        rng.NextBytes(pixels);
        string path = Path.Combine(_folders.Root, "map.png");
        ImageFiles.WriteGrayPng(path, 23, 17, pixels);
        ByteImage back = ImageFiles.ReadGray(path);
        Assert.Equal((23, 17, 1), (back.Width, back.Height, back.Channels));
        Assert.Equal(pixels, back.Pixels);
    }

    [Fact]
    public void ResizeMatchesPillowBilinear()
    {
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(MetricsGolden.Folder, "loader_cases.json")));
        int cases = 0;
        foreach (JsonElement c in doc.RootElement.GetProperty("resize").EnumerateArray())
        {
            int w = c.GetProperty("width").GetInt32(), h = c.GetProperty("height").GetInt32();
            int ow = c.GetProperty("outWidth").GetInt32(), oh = c.GetProperty("outHeight").GetInt32();
            float[] input = [.. c.GetProperty("input").EnumerateArray().Select(v => (float)v.GetDouble())];
            float[] expected = [.. c.GetProperty("output").EnumerateArray().Select(v => (float)v.GetDouble())];
            float[] actual = ImageFiles.ResizeBilinear(input, 1, w, h, ow, oh);
            for (int i = 0; i < expected.Length; i++)
            {
                // Pillow resamples float images in two float32 passes; this is double inside.
                Assert.True(Math.Abs(expected[i] - actual[i]) <= 2e-6, $"{w}×{h}→{ow}×{oh} [{i}]: Pillow {expected[i]}, ours {actual[i]}");
            }

            cases++;
        }

        Assert.Equal(5, cases);
    }

    [Fact]
    public void GrayConversionMatchesPillow()
    {
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(MetricsGolden.Folder, "loader_cases.json")));
        JsonElement luma = doc.RootElement.GetProperty("luma");
        int[] rgb = [.. luma.GetProperty("rgb").EnumerateArray().Select(v => v.GetInt32())];
        int[] gray = [.. luma.GetProperty("gray").EnumerateArray().Select(v => v.GetInt32())];
        for (int i = 0; i < gray.Length; i++)
        {
            Assert.Equal(gray[i], ImageFiles.Luma((byte)rgb[3 * i], (byte)rgb[(3 * i) + 1], (byte)rgb[(3 * i) + 2]));
        }
    }

    [Fact]
    public void ResultsCsvHasOneRowPerTestSet()
    {
        var scores = new SegmentationScores(0.9, 0.8, 0.85, 0.91, 0.95, 0.03);
        IReadOnlyList<TestSetResult> results =
        [
            new TestSetResult("Kvasir", [new PredictionMap("a.png", 1, 1, [0])], [scores], scores),
            new TestSetResult("odd, name", [], [], scores with { Mae = 0.5 }),
        ];
        string path = Path.Combine(_folders.Root, "results.csv");
        ResultsTable.WriteCsv(path, results);
        Assert.Equal(
            [
                "test_set,images,meanDic,meanIoU,wFm,Sm,meanEm,MAE",
                "Kvasir,1,0.900000,0.800000,0.850000,0.910000,0.950000,0.030000",
                "\"odd, name\",0,0.900000,0.800000,0.850000,0.910000,0.950000,0.500000",
            ],
            File.ReadAllLines(path));
    }
}
