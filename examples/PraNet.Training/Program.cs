// PraNet-style training demo: trains a small PraNet-like network on synthetic polyp images with the structure
// loss that LossDsl generates (or its eager TorchSharp translation), and writes curves and sample predictions.
//
//   dotnet run --project examples/PraNet.Training -c Release -- [--epochs N] [--image-size S] [--batch-size B]
//       [--train-size N] [--held-out-size N] [--loss generated|eager] [--dtype float32|float64] [--seed N]
//       [--lr X] [--threads N] [--out DIR] [--quick]
using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using PraNet.Training;
using static TorchSharp.torch;

TrainingOptions options;
string outDir;
try
{
    (options, outDir) = ParseArguments(args);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}

var clock = Stopwatch.StartNew();
using var trainer = new Trainer(options);
ConsoleReport.Line($"[bold]PraNet-style training[/] on synthetic polyps: {options.TrainSize} train / {options.HeldOutSize} held-out images, " +
    $"{options.ImageSize}px, batch {options.BatchSize}, scales {string.Join("/", options.ScaleRates)}, {options.Epochs} epochs, " +
    $"loss [blue]{trainer.Loss.Name}[/], {options.DType}, seed {options.Seed}");
Evaluation initial = trainer.Evaluate();
ConsoleReport.Line(string.Create(CultureInfo.InvariantCulture,
    $"untrained: held-out Dice {initial.Dice:F3}  IoU {initial.IoU:F3}  (all-background Dice {trainer.BaselineDice:F3})"));

var epochs = new System.Collections.Generic.List<EpochSummary>();
for (int epoch = 1; epoch <= options.Epochs; epoch++)
{
    EpochSummary summary = ConsoleReport.Epoch(epoch, options.Epochs, trainer.StepsPerEpoch, onStep => trainer.TrainEpoch(epoch, onStep));
    epochs.Add(summary);
    ConsoleReport.EpochLine(summary, trainer.BaselineDice);
}

var result = new TrainingResult(initial, trainer.BaselineDice, epochs, [.. trainer.StepLosses]);
Directory.CreateDirectory(outDir);
string curves = Path.GetFullPath(Path.Combine(outDir, "curves.png"));
string samples = Path.GetFullPath(Path.Combine(outDir, "samples.png"));
Figures.Curves(curves, result, trainer.StepsPerEpoch);
Figures.Samples(samples, trainer.HeldOut, trainer.PredictHeldOut(), rows: 8);
ConsoleReport.Line(string.Create(CultureInfo.InvariantCulture,
    $"[bold]done[/] in {clock.Elapsed.TotalSeconds:F0} s: held-out Dice {result.Final.Dice:F3}, IoU {result.Final.IoU:F3} " +
    $"(untrained {initial.Dice:F3}, all-background {result.BaselineDice:F3})"));
ConsoleReport.Line($"curves:  {curves}");
ConsoleReport.Line($"samples: {samples}");
return 0;

static (TrainingOptions Options, string OutDir) ParseArguments(string[] args)
{
    var o = new TrainingOptions();
    string outDir = Path.Combine("out", "pranet");
    for (int i = 0; i < args.Length; i++)
    {
        string name = args[i];
        string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{name} needs a value.");
        int Int() => int.Parse(Value(), CultureInfo.InvariantCulture);
        o = name switch
        {
            "--epochs" => o with { Epochs = Int() },
            "--image-size" => o with { ImageSize = Int() },
            "--batch-size" => o with { BatchSize = Int() },
            "--train-size" => o with { TrainSize = Int() },
            "--held-out-size" => o with { HeldOutSize = Int() },
            "--seed" => o with { Seed = Int() },
            "--threads" => o with { Threads = Int() },
            "--lr" => o with { LearningRate = double.Parse(Value(), CultureInfo.InvariantCulture) },
            "--loss" => o with { Loss = Value() switch { "generated" => LossKind.Generated, "eager" => LossKind.Eager, var v => throw new ArgumentException($"Unknown loss '{v}' (generated|eager).") } },
            "--dtype" => o with { DType = Value() switch { "float32" => ScalarType.Float32, "float64" => ScalarType.Float64, var v => throw new ArgumentException($"Unknown dtype '{v}' (float32|float64).") } },
            "--quick" => o with { Epochs = 2, TrainSize = 64, HeldOutSize = 32, ImageSize = 48 },
            "--out" => o,
            _ => throw new ArgumentException($"Unknown option '{name}'."),
        };
        if (name == "--out")
        {
            outDir = Value();
        }
    }

    o.Validate();
    return (o, outDir);
}
