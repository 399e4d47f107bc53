using System.Linq;
using PraNet.Training;
using Xunit;

namespace LossDsl.Training.Tests;

public class DataTests
{
    [Fact]
    public void SameSeedGivesSameImages()
    {
        var a = PolypDataset.Generate(6, 32, seed: 7);
        var b = PolypDataset.Generate(6, 32, seed: 7);
        Assert.Equal(a.Images, b.Images);
        Assert.Equal(a.Masks, b.Masks);
    }

    [Fact]
    public void DifferentSeedsOrIndicesGiveDifferentImages()
    {
        var a = PolypDataset.Generate(4, 32, seed: 7);
        var b = PolypDataset.Generate(4, 32, seed: 8);
        var c = PolypDataset.Generate(4, 32, seed: 7, firstIndex: 4);
        Assert.NotEqual(a.Images, b.Images);
        Assert.NotEqual(a.Images, c.Images);
        Assert.All(a.Images, v => Assert.InRange(v, 0f, 1f));
        Assert.All(a.Masks, v => Assert.True(v is 0f or 1f));
    }
}

public class TrainingTests
{
    [Theory]
    [InlineData(LossKind.Generated)]
    [InlineData(LossKind.Eager)]
    public void ShortTrainingLowersLossAndBeatsBaseline(LossKind loss)
    {
        var options = new TrainingOptions
        {
            Epochs = 3, ImageSize = 32, BatchSize = 8, TrainSize = 64, HeldOutSize = 24, Loss = loss, Seed = 3,
            ScaleRates = [1.0],
        };
        TrainingResult result = Trainer.Run(options);
        double first = result.StepLosses.Take(2).Average();
        double last = result.StepLosses.TakeLast(2).Average();
        Assert.True(last < first, $"loss did not fall: {first} -> {last}");
        Assert.True(result.Final.Dice > result.Initial.Dice, $"Dice did not rise: {result.Initial.Dice} -> {result.Final.Dice}");
        Assert.True(result.Final.Dice > result.BaselineDice, $"Dice {result.Final.Dice} not above baseline {result.BaselineDice}");
    }
}
