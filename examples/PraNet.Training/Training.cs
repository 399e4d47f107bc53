// The training loop: PraNet's recipe in miniature. Per batch and per scale rate (0.75, 1, 1.25): rescale images
// and masks bilinearly to a multiple of 16, run the network, sum the structure loss over its side outputs (deep
// supervision), back-propagate, clip gradients, Adam step. After every epoch: Dice and IoU of the finest map
// (σ > 0.5) on the first test set, at the training size. At the end (Trainer.EvaluateTestSet): PraNet's six metrics
// per test set at each mask's full size. Checkpoints: the model in TorchSharp's format, Adam's state, and a small
// JSON file with the epoch count.
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Text.Json;
using System.Threading.Tasks;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace PraNet.Training;

/// <summary>
/// Settings of a training run. The defaults are the demo's default run: 128 training images at 64 px, three scales,
/// five epochs in float32 — 97 s on the 2-core development machine with other work running, held-out Dice 0.73 against
/// 0.19 for predicting all background.
/// </summary>
public sealed record TrainingOptions
{
    /// <summary>Passes over the training split.</summary>
    public int Epochs { get; init; } = 5;

    /// <summary>Side length of the square images in pixels (a multiple of 16).</summary>
    public int ImageSize { get; init; } = 64;

    /// <summary>Images per batch.</summary>
    public int BatchSize { get; init; } = 16;

    /// <summary>Size of the synthetic training split (real data sets bring their own size).</summary>
    public int TrainSize { get; init; } = 128;

    /// <summary>Size of the synthetic held-out split.</summary>
    public int HeldOutSize { get; init; } = 64;

    /// <summary>Which implementation of the structure loss to train with.</summary>
    public LossKind Loss { get; init; } = LossKind.Generated;

    /// <summary>Seed of the data, the weight initialisation and the shuffling.</summary>
    public int Seed { get; init; } = 42;

    /// <summary>Adam's learning rate.</summary>
    public double LearningRate { get; init; } = 3e-3;

    /// <summary>PraNet's multi-scale training rates; each batch is trained once at every rate.</summary>
    public IReadOnlyList<double> ScaleRates { get; init; } = [0.75, 1.0, 1.25];

    /// <summary>Gradient-norm clip (PraNet clips gradients too).</summary>
    public double GradientClip { get; init; } = 0.5;

    /// <summary>
    /// Floating-point type of the network, the data and the loss. Float32 by default; see
    /// <c>NativeEnvironment.UseSafeConvolutionKernels</c> for the libtorch convolution issue the demo works around.
    /// </summary>
    public ScalarType DType { get; init; } = ScalarType.Float32;

    /// <summary>
    /// The network's input normalisation: (x − 0.5)·4 for the synthetic set, ImageNet's statistics (as PraNet) for real
    /// data. A loaded checkpoint brings its own.
    /// </summary>
    public InputNormalization Normalization { get; init; } = InputNormalization.Centred;

    /// <summary>TorchSharp intra-op threads; 0 keeps TorchSharp's default.</summary>
    public int Threads { get; init; }

    /// <summary>Checks the options and throws <see cref="ArgumentException"/> on a bad value.</summary>
    public void Validate()
    {
        if (Epochs < 1) throw new ArgumentException("Epochs must be at least 1.", nameof(Epochs));
        if (ImageSize < 16 || ImageSize % 16 != 0) throw new ArgumentException("The image size must be a positive multiple of 16.", nameof(ImageSize));
        if (BatchSize < 1) throw new ArgumentException("The batch size must be at least 1.", nameof(BatchSize));
        if (TrainSize < BatchSize) throw new ArgumentException("The training split must hold at least one batch.", nameof(TrainSize));
        if (HeldOutSize < 1) throw new ArgumentException("The held-out split must not be empty.", nameof(HeldOutSize));
        if (Normalization is null || Normalization.Mean.Count != 3 || Normalization.Std.Count != 3 || System.Linq.Enumerable.Any(Normalization.Std, s => !(s > 0)))
            throw new ArgumentException("The input normalisation needs three means and three positive standard deviations.", nameof(Normalization));
        if (ScaleRates.Count == 0) throw new ArgumentException("At least one scale rate is needed.", nameof(ScaleRates));
        if (DType is not (ScalarType.Float32 or ScalarType.Float64)) throw new ArgumentException("The dtype must be float32 or float64.", nameof(DType));
        if (LearningRate <= 0) throw new ArgumentException("The learning rate must be positive.", nameof(LearningRate));
    }
}

/// <summary>One optimisation step (one batch at one scale rate).</summary>
/// <param name="Epoch">1-based epoch.</param>
/// <param name="Step">1-based step within the epoch.</param>
/// <param name="Steps">Steps per epoch.</param>
/// <param name="Loss">The deep-supervision loss of this step.</param>
/// <param name="ImageSize">The side length the batch was rescaled to.</param>
/// <param name="ImagesPerSecond">Training throughput of the epoch so far (images through forward and backward per second).</param>
public sealed record StepInfo(int Epoch, int Step, int Steps, double Loss, int ImageSize, double ImagesPerSecond);

/// <summary>Quick held-out segmentation quality, at the training size (the per-epoch score).</summary>
/// <param name="Dice">Mean over images of the Dice coefficient of σ(pred) &gt; 0.5 with the mask (1 when both are empty).</param>
/// <param name="IoU">Mean over images of the intersection over union (1 when both are empty).</param>
public sealed record Evaluation(double Dice, double IoU);

/// <summary>The summary of one epoch.</summary>
/// <param name="Epoch">1-based epoch.</param>
/// <param name="TrainLoss">Mean deep-supervision loss over the epoch's steps.</param>
/// <param name="HeldOut">Held-out Dice and IoU after the epoch.</param>
/// <param name="Seconds">Wall time of the epoch's training steps.</param>
/// <param name="ImagesPerSecond">Training throughput of the epoch.</param>
public sealed record EpochSummary(int Epoch, double TrainLoss, Evaluation HeldOut, double Seconds, double ImagesPerSecond);

/// <summary>The outcome of <see cref="Trainer.Run"/>.</summary>
/// <param name="Initial">Held-out quality of the untrained network.</param>
/// <param name="BaselineDice">Dice of the trivial all-background prediction on the held-out split.</param>
/// <param name="Epochs">One summary per epoch.</param>
/// <param name="StepLosses">The loss of every step, in order.</param>
public sealed record TrainingResult(Evaluation Initial, double BaselineDice, IReadOnlyList<EpochSummary> Epochs, IReadOnlyList<double> StepLosses)
{
    /// <summary>The last epoch's held-out quality.</summary>
    public Evaluation Final => Epochs[^1].HeldOut;
}

/// <summary>
/// Trains a <see cref="MiniPraNet"/> on a training set and evaluates it on test sets. The first test set is the
/// "held-out" set scored after every epoch. Use <see cref="Run"/> for a whole synthetic run, or drive it epoch by
/// epoch with <see cref="TrainEpoch"/> and <see cref="Evaluate"/> (as the console program does, to draw a progress
/// bar per epoch), then <see cref="EvaluateTestSet"/> for the six metrics.
/// </summary>
public sealed class Trainer : IDisposable
{
    private const string ModelFile = "model.bin";
    private const string OptimizerFile = "optimizer.bin";
    private const string StateFile = "checkpoint.json";

    private readonly TrainingOptions _options;
    private readonly MiniPraNet _model;
    private readonly TorchSharp.Modules.OptimizerHelper _optimizer;
    private readonly ILossFunction _loss;
    private readonly Random _shuffle;
    private readonly List<double> _stepLosses = [];

    /// <summary>Generates the synthetic data (a training and a held-out split) and builds the network, optimiser and loss.</summary>
    public Trainer(TrainingOptions options)
        : this(options, SyntheticTrain(options), [SyntheticHeldOut(options)])
    {
    }

    /// <summary>
    /// Builds the network, optimiser and loss for the given data. <paramref name="train"/> may be null for
    /// evaluation only; every data set must be at <see cref="TrainingOptions.ImageSize"/>.
    /// </summary>
    public Trainer(TrainingOptions options, PolypDataset? train, IReadOnlyList<TestSet> testSets)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(testSets);
        options.Validate();
        if (testSets.Count == 0)
        {
            throw new ArgumentException("At least one test set is needed.", nameof(testSets));
        }

        if (train is not null && train.Count < options.BatchSize)
        {
            throw new ArgumentException(
                $"The training set has {train.Count} images, fewer than one batch of {options.BatchSize}; lower --batch-size.", nameof(train));
        }

        if (train is not null && train.Size != options.ImageSize)
        {
            throw new ArgumentException($"The training set is {train.Size} px, but the run trains at {options.ImageSize} px.", nameof(train));
        }

        foreach (TestSet set in testSets)
        {
            if (set.Data.Size != options.ImageSize)
            {
                throw new ArgumentException($"Test set '{set.Name}' is {set.Data.Size} px, but the run trains at {options.ImageSize} px.", nameof(testSets));
            }
        }

        _options = options;
        if (options.Threads > 0)
        {
            torch.set_num_threads(options.Threads);
        }

        torch.manual_seed(options.Seed);
        Train = train;
        TestSets = testSets;
        _model = new MiniPraNet(options.Normalization);
        _model.to(options.DType);
        _optimizer = optim.Adam(_model.parameters(), lr: options.LearningRate);
        _loss = ILossFunction.Create(options.Loss);
        _shuffle = new Random(options.Seed);
    }

    /// <summary>The training set, or null when the trainer only evaluates.</summary>
    public PolypDataset? Train { get; }

    /// <summary>The test sets; the first is the per-epoch held-out set.</summary>
    public IReadOnlyList<TestSet> TestSets { get; }

    /// <summary>The per-epoch held-out set: the first test set's images at the training size.</summary>
    public PolypDataset HeldOut => TestSets[0].Data;

    /// <summary>The loss implementation in use.</summary>
    public ILossFunction Loss => _loss;

    /// <summary>The network (for callers that predict on their own).</summary>
    public MiniPraNet Model => _model;

    /// <summary>The loss of every step so far (in this process).</summary>
    public IReadOnlyList<double> StepLosses => _stepLosses;

    /// <summary>Epochs trained so far, including those of a loaded checkpoint.</summary>
    public int EpochsDone { get; private set; }

    /// <summary>Optimisation steps per epoch: batches × scale rates (0 without a training set).</summary>
    public int StepsPerEpoch => ((Train?.Count ?? 0) / _options.BatchSize) * _options.ScaleRates.Count;

    /// <summary>
    /// Dice of predicting "no polyp" everywhere: 1 on the images without a polyp, 0 on the others, so the
    /// fraction of empty masks in the held-out set.
    /// </summary>
    public double BaselineDice => HeldOut.EmptyFraction;

    /// <summary>Trains one epoch (the last partial batch is dropped) and returns its summary; calls <paramref name="onStep"/> after every step.</summary>
    public EpochSummary TrainEpoch(int epoch, Action<StepInfo>? onStep = null)
    {
        PolypDataset train = Train ?? throw new InvalidOperationException("This trainer has no training set (evaluation only).");
        _model.train();
        int[] order = new int[train.Count];
        for (int i = 0; i < order.Length; i++)
        {
            order[i] = i;
        }

        _shuffle.Shuffle(order);
        int batches = train.Count / _options.BatchSize;
        int steps = StepsPerEpoch, step = 0;
        double lossSum = 0;
        long images = 0;
        var clock = Stopwatch.StartNew();
        for (int batch = 0; batch < batches; batch++)
        {
            ReadOnlySpan<int> indices = order.AsSpan(batch * _options.BatchSize, _options.BatchSize);
            foreach (double rate in _options.ScaleRates)
            {
                using var scope = torch.NewDisposeScope();
                Tensor x = train.ImageBatch(indices).to(_options.DType);
                Tensor y = train.MaskBatch(indices).to(_options.DType);
                int size = MiniPraNet.ScaledSize(_options.ImageSize, rate, 16);
                if (size != _options.ImageSize)
                {
                    x = F.interpolate(x, size: [size, size], mode: InterpolationMode.Bilinear, align_corners: true);
                    y = F.interpolate(y, size: [size, size], mode: InterpolationMode.Bilinear, align_corners: true);
                }

                _optimizer.zero_grad();
                Tensor[] preds = _model.forward(x);
                Tensor loss = _loss.Compute(preds, y);
                loss.backward();
                nn.utils.clip_grad_norm_(_model.parameters(), _options.GradientClip);
                _optimizer.step();

                double value = loss.to(ScalarType.Float64).item<double>();
                if (!double.IsFinite(value))
                {
                    throw new InvalidOperationException($"The loss became {value} at epoch {epoch}, step {step + 1}.");
                }

                _stepLosses.Add(value);
                lossSum += value;
                images += indices.Length;
                step++;
                onStep?.Invoke(new StepInfo(epoch, step, steps, value, size, images / clock.Elapsed.TotalSeconds));
            }
        }

        clock.Stop();
        EpochsDone++;
        Evaluation heldOut = Evaluate();
        return new EpochSummary(epoch, lossSum / steps, heldOut, clock.Elapsed.TotalSeconds, images / clock.Elapsed.TotalSeconds);
    }

    /// <summary>Dice and IoU (σ &gt; 0.5) of the finest side output on the held-out set, at the training size.</summary>
    public Evaluation Evaluate()
    {
        float[] probabilities = PredictHeldOut();
        int plane = HeldOut.Size * HeldOut.Size;
        double dice = 0, iou = 0;
        for (int i = 0; i < HeldOut.Count; i++)
        {
            ReadOnlySpan<float> p = probabilities.AsSpan(i * plane, plane);
            ReadOnlySpan<float> m = HeldOut.Masks.AsSpan(i * plane, plane);
            (double d, double j) = Overlap(p, m);
            dice += d;
            iou += j;
        }

        return new Evaluation(dice / HeldOut.Count, iou / HeldOut.Count);
    }

    /// <summary>σ of the finest side output for every held-out image, N×S×S.</summary>
    public float[] PredictHeldOut() => Predict(HeldOut);

    /// <summary>σ of the finest side output for every image of <paramref name="data"/>, N×S×S.</summary>
    public float[] Predict(PolypDataset data)
    {
        ArgumentNullException.ThrowIfNull(data);
        int plane = data.Size * data.Size;
        var result = new float[data.Count * plane];
        ForEachLogitBatch(data, (start, logits) =>
        {
            Tensor probability = torch.sigmoid(logits).to(ScalarType.Float32).contiguous();
            probability.data<float>().CopyTo(result, start * plane);
        });
        return result;
    }

    /// <summary>
    /// PraNet's evaluation of one test set: every image's finest side output is upsampled bilinearly to its mask's
    /// size, passed through σ and min–max normalised, (p − min)/(max − min + 1e-8), and quantised to the 8-bit map
    /// PraNet's test script writes; the six metrics are computed on that map as the published evaluation reads it.
    /// </summary>
    public TestSetResult EvaluateTestSet(TestSet set)
    {
        ArgumentNullException.ThrowIfNull(set);
        var maps = new PredictionMap[set.Data.Count];
        ForEachLogitBatch(set.Data, (start, logits) =>
        {
            for (int b = 0; b < logits.shape[0]; b++)
            {
                GroundTruth truth = set.Truths[start + b];
                Tensor one = logits[b].unsqueeze(0);
                Tensor up = F.interpolate(one, size: [truth.Height, truth.Width], mode: InterpolationMode.Bilinear, align_corners: false);
                Tensor probability = torch.sigmoid(up).to(ScalarType.Float64).contiguous();
                maps[start + b] = PredictionMap.FromProbabilities(truth.Name, truth.Width, truth.Height, probability.data<double>().ToArray());
            }
        });

        var scores = new SegmentationScores[maps.Length];
        Parallel.For(0, maps.Length, i =>
        {
            GroundTruth truth = set.Truths[i];
            scores[i] = PolypMetrics.Score(PolypMetrics.MapFromBytes(maps[i].Pixels), truth.Mask, truth.Width, truth.Height);
        });
        return new TestSetResult(set.Name, maps, scores, SegmentationScores.Mean(scores));
    }

    private void ForEachLogitBatch(PolypDataset data, Action<int, Tensor> onBatch)
    {
        _model.eval();
        using var noGrad = torch.no_grad();
        for (int start = 0; start < data.Count; start += _options.BatchSize)
        {
            using var scope = torch.NewDisposeScope();
            int count = Math.Min(_options.BatchSize, data.Count - start);
            int[] indices = new int[count];
            for (int i = 0; i < count; i++)
            {
                indices[i] = start + i;
            }

            Tensor[] preds = _model.forward(data.ImageBatch(indices).to(_options.DType));
            onBatch(start, preds[^1]);
        }
    }

    /// <summary>Dice and IoU of <paramref name="probability"/> &gt; 0.5 against <paramref name="mask"/> &gt; 0.5; 1 when both are empty.</summary>
    public static (double Dice, double IoU) Overlap(ReadOnlySpan<float> probability, ReadOnlySpan<float> mask)
    {
        long intersection = 0, predicted = 0, actual = 0;
        for (int i = 0; i < probability.Length; i++)
        {
            bool p = probability[i] > 0.5f, m = mask[i] > 0.5f;
            predicted += p ? 1 : 0;
            actual += m ? 1 : 0;
            intersection += p && m ? 1 : 0;
        }

        if (predicted + actual == 0)
        {
            return (1, 1);
        }

        double dice = 2.0 * intersection / (predicted + actual);
        double iou = (double)intersection / (predicted + actual - intersection);
        return (dice, iou);
    }

    /// <summary>
    /// Writes a checkpoint into <paramref name="folder"/>: model.bin (the network's parameters and batch-norm
    /// statistics, TorchSharp's <c>Module.save</c> format), optimizer.bin (Adam's state) and checkpoint.json (the
    /// epochs trained and the settings the files depend on). Returns the model file's path.
    /// </summary>
    public string SaveCheckpoint(string folder)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        Directory.CreateDirectory(folder);
        string model = Path.Combine(folder, ModelFile);
        _model.save(model);
        _optimizer.save_state_dict(Path.Combine(folder, OptimizerFile));
        var state = new CheckpointState(EpochsDone, _options.DType.ToString(), _options.Loss.ToString(), _options.ImageSize, _options.Seed);
        File.WriteAllText(Path.Combine(folder, StateFile), JsonSerializer.Serialize(state, CheckpointJson.Default.CheckpointState));
        return model;
    }

    /// <summary>
    /// Loads a checkpoint written by <see cref="SaveCheckpoint"/>: <paramref name="path"/> is its model file or its
    /// folder. Adam's state and the epoch count are restored when their files are beside the model, and the
    /// shuffling is advanced past the epochs already trained, so training continues as if never interrupted.
    /// </summary>
    public void LoadCheckpoint(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string model = Directory.Exists(path) ? Path.Combine(path, ModelFile) : path;
        if (!File.Exists(model))
        {
            throw new FileNotFoundException($"No checkpoint at '{model}'.", model);
        }

        string folder = Path.GetDirectoryName(Path.GetFullPath(model))!;
        string stateFile = Path.Combine(folder, StateFile);
        CheckpointState? state = File.Exists(stateFile)
            ? JsonSerializer.Deserialize(File.ReadAllText(stateFile), CheckpointJson.Default.CheckpointState)
            : null;
        if (state is not null && state.DType != _options.DType.ToString())
        {
            throw new InvalidDataException(
                $"The checkpoint '{model}' holds a {state.DType} network; run with --dtype {(state.DType == nameof(ScalarType.Float64) ? "float64" : "float32")}.");
        }

        _model.load(model);
        string optimizer = Path.Combine(folder, OptimizerFile);
        if (File.Exists(optimizer))
        {
            _optimizer.load_state_dict(optimizer);
        }

        if (state is not null)
        {
            for (int e = EpochsDone; e < state.Epochs && Train is not null; e++)
            {
                // Replay the shuffles of the epochs already trained (one per epoch, as TrainEpoch draws them).
                _shuffle.Shuffle(new int[Train.Count]);
            }

            EpochsDone = state.Epochs;
        }
    }

    /// <summary>Runs a whole training: evaluates the untrained network, then trains and evaluates every epoch.</summary>
    public static TrainingResult Run(TrainingOptions options, Action<StepInfo>? onStep = null, Action<EpochSummary>? onEpoch = null)
    {
        using var trainer = new Trainer(options);
        Evaluation initial = trainer.Evaluate();
        var epochs = new List<EpochSummary>();
        for (int epoch = 1; epoch <= options.Epochs; epoch++)
        {
            EpochSummary summary = trainer.TrainEpoch(epoch, onStep);
            epochs.Add(summary);
            onEpoch?.Invoke(summary);
        }

        return new TrainingResult(initial, trainer.BaselineDice, epochs, [.. trainer.StepLosses]);
    }

    private static PolypDataset SyntheticTrain(TrainingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        return PolypDataset.Generate(options.TrainSize, options.ImageSize, options.Seed);
    }

    private static TestSet SyntheticHeldOut(TrainingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        return TestSet.FromSynthetic("synthetic-held-out", PolypDataset.Generate(options.HeldOutSize, options.ImageSize, options.Seed, firstIndex: 1_000_000));
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _optimizer.Dispose();
        _model.Dispose();
    }
}

/// <summary>What checkpoint.json records beside a saved model.</summary>
/// <param name="Epochs">Epochs the model was trained for.</param>
/// <param name="DType">The network's floating-point type.</param>
/// <param name="Loss">The loss implementation it was trained with.</param>
/// <param name="ImageSize">The training size.</param>
/// <param name="Seed">The run's seed.</param>
public sealed record CheckpointState(int Epochs, string DType, string Loss, int ImageSize, int Seed);

/// <summary>Source-generated JSON for <see cref="CheckpointState"/> (no reflection, stable output).</summary>
[System.Text.Json.Serialization.JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.CamelCase)]
[System.Text.Json.Serialization.JsonSerializable(typeof(CheckpointState))]
internal sealed partial class CheckpointJson : System.Text.Json.Serialization.JsonSerializerContext;
