using System;
using System.IO;
using System.Linq;
using PraNet.Training;
using Xunit;

namespace LossDsl.Training.Tests;

/// <summary>The whole real-data path on files the test writes: load, train, evaluate, save, reload, predict.</summary>
public sealed class RealDataTests : IDisposable
{
    private static readonly TrainingOptions Tiny = new()
    {
        Epochs = 1, ImageSize = 16, BatchSize = 4, TrainSize = 8, HeldOutSize = 4, Seed = 5, ScaleRates = [1.0],
    };

    private readonly TinyPolypFolders _folders = new();

    public void Dispose() => _folders.Dispose();

    [Fact]
    public void TrainEvaluateSaveReloadPredictsTheSameMaps()
    {
        DataSources sources = PolypFolders.Resolve(_folders.PraNet, []);
        PolypDataset train = PolypFolders.LoadTraining(sources.Train, Tiny.ImageSize);
        TestSet[] tests = [.. sources.Tests.Select(t => PolypFolders.LoadTestSet(t, Tiny.ImageSize))];
        string checkpoint = Path.Combine(_folders.Root, "checkpoint");

        TestSetResult[] before;
        using (var trainer = new Trainer(Tiny with { Normalization = InputNormalization.ImageNet }, train, tests))
        {
            Assert.Equal(InputNormalization.ImageNet, trainer.Model.Normalization);
            EpochSummary epoch = trainer.TrainEpoch(1);
            Assert.Equal(2, trainer.StepLosses.Count);
            Assert.All(trainer.StepLosses, l => Assert.True(double.IsFinite(l)));
            Assert.Equal(1, epoch.Epoch);
            before = [.. tests.Select(trainer.EvaluateTestSet)];
            trainer.SaveCheckpoint(checkpoint);
            foreach (TestSetResult r in before)
            {
                r.SaveMaps(checkpoint);
            }
        }

        Assert.True(File.Exists(Path.Combine(checkpoint, "model.bin")));
        Assert.True(File.Exists(Path.Combine(checkpoint, "optimizer.bin")));
        for (int s = 0; s < tests.Length; s++)
        {
            TestSetResult r = before[s];
            Assert.Equal(tests[s].Name, r.Name);
            Assert.Equal(tests[s].Data.Count, r.Maps.Count);
            for (int i = 0; i < r.Maps.Count; i++)
            {
                GroundTruth truth = tests[s].Truths[i];
                PredictionMap map = r.Maps[i];
                // Upsampled to the original mask's size, named like PraNet's results (.jpg → .png), spanning 0…255.
                Assert.Equal((truth.Width, truth.Height), (map.Width, map.Height));
                Assert.Equal(Path.ChangeExtension(truth.Name, ".png"), map.Name);
                Assert.Equal(0, map.Pixels.Min());
                Assert.Equal(255, map.Pixels.Max());
                Assert.All(r.PerImage[i].ToArray(), v => Assert.True(double.IsFinite(v)));

                // The saved PNG holds the same bytes, so evaluating the file gives the same scores.
                ByteImage file = ImageFiles.ReadGray(Path.Combine(checkpoint, r.Name, map.Name));
                Assert.Equal(map.Pixels, file.Pixels);
                Assert.Equal(r.PerImage[i], PolypMetrics.Score(PolypMetrics.MapFromBytes(file.Pixels), truth.Mask, truth.Width, truth.Height));
            }

            Assert.Equal(SegmentationScores.Mean(r.PerImage), r.Mean);
        }

        // A fresh trainer (evaluation only: no training set, default normalisation) loaded from the checkpoint gets the
        // checkpoint's normalisation back and predicts the same maps.
        using var reloaded = new Trainer(Tiny, null, tests);
        Assert.Equal(InputNormalization.Centred, reloaded.Model.Normalization);
        reloaded.LoadCheckpoint(Path.Combine(checkpoint, "model.bin"));
        Assert.Equal(1, reloaded.EpochsDone);
        Assert.Equal(InputNormalization.ImageNet, reloaded.Model.Normalization);
        for (int s = 0; s < tests.Length; s++)
        {
            TestSetResult again = reloaded.EvaluateTestSet(tests[s]);
            Assert.Equal(before[s].Maps.Select(m => m.Pixels), again.Maps.Select(m => m.Pixels));
            Assert.Equal(before[s].Mean, again.Mean);
        }

        Assert.Throws<InvalidOperationException>(() => reloaded.TrainEpoch(2));
    }

    [Fact]
    public void ResumedTrainingContinuesTheSameRun()
    {
        // Synthetic data: two epochs straight, against one epoch, a checkpoint, and one more epoch in a new trainer.
        TrainingOptions options = Tiny with { TrainSize = 8, HeldOutSize = 4 };
        double[] straight;
        using (var trainer = new Trainer(options))
        {
            trainer.TrainEpoch(1);
            trainer.TrainEpoch(2);
            straight = [.. trainer.StepLosses];
        }

        string checkpoint = Path.Combine(_folders.Root, "resume");
        using (var first = new Trainer(options))
        {
            first.TrainEpoch(1);
            Assert.Equal(straight[..2], first.StepLosses, (a, b) => Math.Abs(a - b) <= 1e-5 * Math.Abs(a));
            first.SaveCheckpoint(checkpoint);
        }

        using var resumed = new Trainer(options);
        resumed.LoadCheckpoint(checkpoint);
        Assert.Equal(1, resumed.EpochsDone);
        resumed.TrainEpoch(2);
        Assert.Equal(2, resumed.EpochsDone);
        Assert.Equal(straight[2..], resumed.StepLosses, (a, b) => Math.Abs(a - b) <= 1e-5 * Math.Abs(a));
    }

    [Fact]
    public void CheckpointOfAnotherDtypeIsRefused()
    {
        string checkpoint = Path.Combine(_folders.Root, "f32");
        using (var trainer = new Trainer(Tiny))
        {
            trainer.SaveCheckpoint(checkpoint);
        }

        using var other = new Trainer(Tiny with { DType = global::TorchSharp.torch.ScalarType.Float64 });
        var e = Assert.Throws<InvalidDataException>(() => other.LoadCheckpoint(checkpoint));
        Assert.Contains("--dtype float32", e.Message, StringComparison.Ordinal);
        Assert.Throws<FileNotFoundException>(() => other.LoadCheckpoint(Path.Combine(_folders.Root, "missing.bin")));
    }

    [Fact]
    public void SyntheticHeldOutIsEvaluatedAtItsOwnSize()
    {
        using var trainer = new Trainer(Tiny);
        TestSet set = Assert.Single(trainer.TestSets);
        Assert.Equal("synthetic-held-out", set.Name);
        TestSetResult result = trainer.EvaluateTestSet(set);
        Assert.Equal(4, result.Maps.Count);
        Assert.All(result.Maps, m => Assert.Equal((16, 16), (m.Width, m.Height)));
        Assert.Equal("0000.png", result.Maps[0].Name);
    }

    [Fact]
    public void TooSmallTrainingSetIsAClearError()
    {
        PolypDataset two = PolypDataset.Generate(2, 16, seed: 1);
        TestSet held = TestSet.FromSynthetic("h", PolypDataset.Generate(2, 16, seed: 1, firstIndex: 10));
        var e = Assert.Throws<ArgumentException>(() => new Trainer(Tiny, two, [held]));
        Assert.Contains("fewer than one batch", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => new Trainer(Tiny with { ImageSize = 48 }, null, [held]));
    }
}
