// PraNet-style training demo: trains a small PraNet-like network with the structure loss that LossDsl generates
// (or its eager TorchSharp translation) on synthetic polyps, or on a real data set in PraNet's folder layout, and
// ends with PraNet's six metrics per test set; writes curves, sample predictions, the results as CSV and, with
// --save, a checkpoint and the prediction maps.
//
//   dotnet run --project examples/PraNet.Training -c Release -- [--data DIR] [--test-data DIR]... [--save DIR]
//       [--resume FILE] [--evaluate-only] [--epochs N] [--image-size S] [--batch-size B] [--train-size N]
//       [--held-out-size N] [--loss generated|eager] [--dtype float32|float64] [--seed N] [--lr X] [--threads N]
//       [--out DIR] [--quick]
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using PraNet.Training;
using static TorchSharp.torch;

RunSettings run;
try
{
    run = ParseArguments(args);
}
catch (Exception e) when (e is ArgumentException or FormatException or OverflowException)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}

try
{
    return Run(run);
}
catch (Exception e) when (e is IOException or InvalidDataException or ArgumentException or UnauthorizedAccessException)
{
    Console.Error.WriteLine(e.Message);
    return 1;
}

static int Run(RunSettings run)
{
    TrainingOptions options = run.Options;
    var clock = Stopwatch.StartNew();
    (PolypDataset? train, List<TestSet> tests, string source) = LoadData(run);
    using var trainer = new Trainer(options, train, tests);
    if (run.Resume is not null)
    {
        trainer.LoadCheckpoint(run.Resume);
        ConsoleReport.Line($"resumed from [blue]{Escape(run.Resume)}[/] after {trainer.EpochsDone} epoch(s)");
    }

    string what = run.EvaluateOnly ? "[bold]PraNet-style evaluation[/]" : "[bold]PraNet-style training[/]";
    string trainPart = train is null ? "" : string.Create(CultureInfo.InvariantCulture, $"{train.Count} train / ");
    ConsoleReport.Line($"{what} on {Escape(source)}: {trainPart}{string.Join(", ", tests.Select(t => string.Create(CultureInfo.InvariantCulture, $"{t.Data.Count} {Escape(t.Name)}")))} images, " +
        string.Create(CultureInfo.InvariantCulture, $"{options.ImageSize}px, batch {options.BatchSize}, scales {string.Join("/", options.ScaleRates)}, ") +
        (run.EvaluateOnly ? "" : string.Create(CultureInfo.InvariantCulture, $"{options.Epochs} epochs, ")) +
        $"loss [blue]{trainer.Loss.Name}[/], {options.DType}, seed {options.Seed}");
    Evaluation initial = trainer.Evaluate();
    ConsoleReport.Line(string.Create(CultureInfo.InvariantCulture, 
        $"{(trainer.EpochsDone == 0 ? "untrained" : "loaded")}: held-out Dice {initial.Dice:F3}  IoU {initial.IoU:F3}  (σ > 0.5 at {options.ImageSize}px; all-background Dice {trainer.BaselineDice:F3})"));

    var epochs = new List<EpochSummary>();
    if (!run.EvaluateOnly)
    {
        int first = trainer.EpochsDone + 1, last = trainer.EpochsDone + options.Epochs;
        for (int epoch = first; epoch <= last; epoch++)
        {
            EpochSummary summary = ConsoleReport.Epoch(epoch, last, trainer.StepsPerEpoch, onStep => trainer.TrainEpoch(epoch, onStep));
            epochs.Add(summary);
            ConsoleReport.EpochLine(summary, trainer.BaselineDice);
            if (run.Save is not null)
            {
                trainer.SaveCheckpoint(run.Save);
            }
        }
    }

    var results = tests.Select(trainer.EvaluateTestSet).ToList();
    ConsoleReport.Results(results);

    Directory.CreateDirectory(run.OutDir);
    string csv = Path.GetFullPath(Path.Combine(run.OutDir, "results.csv"));
    ResultsTable.WriteCsv(csv, results);
    string samples = Path.GetFullPath(Path.Combine(run.OutDir, "samples.png"));
    Figures.Samples(samples, trainer.HeldOut, trainer.PredictHeldOut(), rows: 8);
    string? curves = null;
    if (epochs.Count > 0)
    {
        var result = new TrainingResult(initial, trainer.BaselineDice, epochs, [.. trainer.StepLosses]);
        curves = Path.GetFullPath(Path.Combine(run.OutDir, "curves.png"));
        Figures.Curves(curves, result, trainer.StepsPerEpoch);
        ConsoleReport.Line(string.Create(CultureInfo.InvariantCulture, 
            $"[bold]done[/] in {clock.Elapsed.TotalSeconds:F0} s: held-out Dice {result.Final.Dice:F3}, IoU {result.Final.IoU:F3} " +
            $"(σ > 0.5; before training {initial.Dice:F3}, all-background {result.BaselineDice:F3})"));
    }
    else
    {
        ConsoleReport.Line(string.Create(CultureInfo.InvariantCulture, $"[bold]done[/] in {clock.Elapsed.TotalSeconds:F0} s"));
    }

    if (run.Save is not null)
    {
        string model = run.EvaluateOnly ? "" : Path.GetFullPath(Path.Combine(run.Save, "model.bin"));
        foreach (TestSetResult r in results)
        {
            ConsoleReport.Line($"predictions: {Escape(Path.GetFullPath(r.SaveMaps(run.Save)))}");
        }

        if (model.Length > 0)
        {
            ConsoleReport.Line($"model:   {Escape(model)}");
        }
    }

    ConsoleReport.Line($"results: {Escape(csv)}");
    if (curves is not null)
    {
        ConsoleReport.Line($"curves:  {Escape(curves)}");
    }

    ConsoleReport.Line($"samples: {Escape(samples)}");
    return 0;
}

// The training set and the test sets of the run, and a description of where they come from.
static (PolypDataset? Train, List<TestSet> Tests, string Source) LoadData(RunSettings run)
{
    TrainingOptions o = run.Options;
    if (run.Data is null)
    {
        // Synthetic polyps (the default); --test-data sets are evaluated after the synthetic held-out split.
        PolypDataset? train = run.EvaluateOnly ? null : PolypDataset.Generate(o.TrainSize, o.ImageSize, o.Seed);
        var heldOut = TestSet.FromSynthetic("synthetic-held-out", PolypDataset.Generate(o.HeldOutSize, o.ImageSize, o.Seed, firstIndex: 1_000_000));
        var extra = run.TestData.SelectMany(PolypFolders.ReadTestSets).Select(p => PolypFolders.LoadTestSet(p, o.ImageSize));
        return (train, [heldOut, .. extra], "synthetic polyps");
    }

    DataSources sources = PolypFolders.Resolve(run.Data, run.TestData);
    PairList trainPairs = sources.Train;
    var testPairs = sources.Tests.ToList();
    if (testPairs.Count == 0)
    {
        // No test set given or found: hold out part of the training folder (10 % unless --held-out-size says).
        int heldOut = run.HeldOutSizeGiven ? o.HeldOutSize : Math.Max(1, (int)Math.Round(trainPairs.Pairs.Count * 0.1));
        (trainPairs, PairList held) = PolypFolders.Split(trainPairs, heldOut, o.Seed);
        testPairs.Add(held);
    }

    if (run.TrainSizeGiven && o.TrainSize < trainPairs.Pairs.Count)
    {
        trainPairs = trainPairs with { Pairs = [.. trainPairs.Pairs.Take(o.TrainSize)] };
    }

    string training = run.EvaluateOnly ? "" : string.Create(CultureInfo.InvariantCulture, $"{trainPairs.Pairs.Count} training and ");
    ConsoleReport.Line(string.Create(CultureInfo.InvariantCulture, $"loading {training}{testPairs.Sum(t => t.Pairs.Count)} test images, resized to {o.ImageSize}px ..."));
    PolypDataset? loaded = run.EvaluateOnly ? null : PolypFolders.LoadTraining(trainPairs, o.ImageSize);
    return (loaded, [.. testPairs.Select(p => PolypFolders.LoadTestSet(p, o.ImageSize))], Path.GetFullPath(run.Data));
}

static RunSettings ParseArguments(string[] args)
{
    var o = new TrainingOptions();
    var run = new RunSettings { OutDir = Path.Combine("out", "pranet") };
    var testData = new List<string>();
    for (int i = 0; i < args.Length; i++)
    {
        string name = args[i];
        string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{name} needs a value.");
        int Int() => int.Parse(Value(), CultureInfo.InvariantCulture);
        switch (name)
        {
            case "--epochs": o = o with { Epochs = Int() }; break;
            case "--image-size": o = o with { ImageSize = Int() }; break;
            case "--batch-size": o = o with { BatchSize = Int() }; break;
            case "--train-size": o = o with { TrainSize = Int() }; run = run with { TrainSizeGiven = true }; break;
            case "--held-out-size": o = o with { HeldOutSize = Int() }; run = run with { HeldOutSizeGiven = true }; break;
            case "--seed": o = o with { Seed = Int() }; break;
            case "--threads": o = o with { Threads = Int() }; break;
            case "--lr": o = o with { LearningRate = double.Parse(Value(), CultureInfo.InvariantCulture) }; break;
            case "--loss":
                o = o with { Loss = Value() switch { "generated" => LossKind.Generated, "eager" => LossKind.Eager, var v => throw new ArgumentException($"Unknown loss '{v}' (generated|eager).") } };
                break;
            case "--dtype":
                o = o with { DType = Value() switch { "float32" => ScalarType.Float32, "float64" => ScalarType.Float64, var v => throw new ArgumentException($"Unknown dtype '{v}' (float32|float64).") } };
                break;
            case "--quick": o = o with { Epochs = 2, TrainSize = 64, HeldOutSize = 32, ImageSize = 48 }; break;
            case "--out": run = run with { OutDir = Value() }; break;
            case "--data": run = run with { Data = Value() }; break;
            case "--test-data": testData.Add(Value()); break;
            case "--save": run = run with { Save = Value() }; break;
            case "--resume": run = run with { Resume = Value() }; break;
            case "--evaluate-only": run = run with { EvaluateOnly = true }; break;
            default: throw new ArgumentException($"Unknown option '{name}'.");
        }
    }

    if (run.EvaluateOnly && run.Resume is null)
    {
        throw new ArgumentException("--evaluate-only needs --resume FILE (the checkpoint to evaluate).");
    }

    if (run.Data is not null)
    {
        o = o with { Normalization = InputNormalization.ImageNet }; // PraNet's loader normalises with ImageNet's statistics
    }

    o.Validate();
    return run with { Options = o, TestData = testData };
}


static string Escape(string text) => Spectre.Console.Markup.Escape(text);

/// <summary>The command line, parsed.</summary>
internal sealed record RunSettings
{
    public TrainingOptions Options { get; init; } = new();
    public required string OutDir { get; init; }
    public string? Data { get; init; }
    public IReadOnlyList<string> TestData { get; init; } = [];
    public string? Save { get; init; }
    public string? Resume { get; init; }
    public bool EvaluateOnly { get; init; }
    public bool TrainSizeGiven { get; init; }
    public bool HeldOutSizeGiven { get; init; }
}
