// PraNet in miniature: a small convolutional encoder, a coarse "global" map from the deepest features, and a
// top-down cascade of reverse-attention refinements (each level looks at what the coarser map does NOT yet
// cover, 1 − σ(coarser), and predicts a residual). Every level's map is a side output, upsampled bilinearly to
// the input size for deep supervision; the finest one is the prediction.
using System;
using System.Collections.Generic;
using System.Linq;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;
using F = TorchSharp.torch.nn.functional;

namespace PraNet.Training;

/// <summary>
/// A small PraNet-style segmentation network. Input: B×3×H×W RGB images in [0, 1] with H and W multiples of 8,
/// normalised inside per channel (see <see cref="InputNormalization"/>).
/// Output: four logit maps B×1×H×W, coarsest first; the last one is the prediction.
/// </summary>
public sealed class MiniPraNet : Module<Tensor, Tensor[]>
{
    private readonly Sequential _enc1, _enc2, _enc3, _enc4;
    private readonly Sequential _dec3, _dec2, _dec1;
    private readonly Module<Tensor, Tensor> _global;
    private readonly Sequential _ra3, _ra2, _ra1;

    /// <summary>
    /// Creates the network with the given input normalisation (<see cref="InputNormalization.Centred"/> when null) and
    /// channel widths (encoder levels 1–4). The normalisation is kept as two buffers, so a saved model carries it.
    /// </summary>
    public MiniPraNet(InputNormalization? normalization = null, int c1 = 16, int c2 = 32, int c3 = 48, int c4 = 64)
        : base(nameof(MiniPraNet))
    {
        InputNormalization n = normalization ?? InputNormalization.Centred;
        register_buffer(MeanBuffer, torch.tensor(n.Mean.ToArray(), [1, 3, 1, 1]));
        register_buffer(StdBuffer, torch.tensor(n.Std.ToArray(), [1, 3, 1, 1]));
        _enc1 = Block(3, c1);
        _enc2 = Block(c1, c2);
        _enc3 = Block(c2, c3);
        _enc4 = Block(c3, c4);
        _global = Conv2d(c4, 1, 1);
        _dec3 = Block(c3 + c4, c3);
        _dec2 = Block(c2 + c3, c2);
        _dec1 = Block(c1 + c2, c1);
        _ra3 = ReverseAttentionHead(c3);
        _ra2 = ReverseAttentionHead(c2);
        _ra1 = ReverseAttentionHead(c1);
        RegisterComponents();
    }

    private const string MeanBuffer = "input_mean";
    private const string StdBuffer = "input_std";

    /// <summary>The input normalisation in use (from the constructor, or from a loaded checkpoint).</summary>
    public InputNormalization Normalization
    {
        get
        {
            using var scope = torch.NewDisposeScope();
            return new([.. get_buffer(MeanBuffer)!.to(ScalarType.Float32).data<float>()], [.. get_buffer(StdBuffer)!.to(ScalarType.Float32).data<float>()]);
        }
    }

    /// <summary>The number of side outputs <see cref="forward"/> returns.</summary>
    public static int SideOutputs => 4;

    /// <inheritdoc/>
    public override Tensor[] forward(Tensor images)
    {
        // Per-channel normalisation (ImageNet's for real data, as PraNet's loader applies it with transforms.Normalize).
        Tensor x = (images - get_buffer(MeanBuffer)!) / get_buffer(StdBuffer)!;
        Tensor e1 = _enc1.forward(x);                              // H
        Tensor e2 = _enc2.forward(F.max_pool2d(e1, 2));            // H/2
        Tensor e3 = _enc3.forward(F.max_pool2d(e2, 2));            // H/4
        Tensor e4 = _enc4.forward(F.max_pool2d(e3, 2));            // H/8

        Tensor s4 = _global.forward(e4);                           // coarse map at H/8
        Tensor d3 = _dec3.forward(torch.cat([e3, Up(e4, e3)], 1));
        Tensor s3 = Refine(_ra3, d3, s4);                          // H/4
        Tensor d2 = _dec2.forward(torch.cat([e2, Up(d3, e2)], 1));
        Tensor s2 = Refine(_ra2, d2, s3);                          // H/2
        Tensor d1 = _dec1.forward(torch.cat([e1, Up(d2, e1)], 1));
        Tensor s1 = Refine(_ra1, d1, s2);                          // H

        return [Up(s4, images), Up(s3, images), Up(s2, images), s1];
    }

    /// <summary>Reverse attention: features weighted by 1 − σ(coarser map) predict a residual to it.</summary>
    private static Tensor Refine(Sequential head, Tensor features, Tensor coarser)
    {
        Tensor guide = Up(coarser, features);
        Tensor reverse = 1 - torch.sigmoid(guide);
        return guide + head.forward(features * reverse);
    }

    /// <summary>Bilinear upsampling of <paramref name="x"/> to the spatial size of <paramref name="like"/>.</summary>
    private static Tensor Up(Tensor x, Tensor like) =>
        F.interpolate(x, size: [like.shape[2], like.shape[3]], mode: InterpolationMode.Bilinear, align_corners: false);

    private static Sequential Block(int input, int output) => Sequential(
        Conv2d(input, output, 3, padding: 1, bias: false),
        BatchNorm2d(output),
        ReLU(),
        Conv2d(output, output, 3, padding: 1, bias: false),
        BatchNorm2d(output),
        ReLU());

    private static Sequential ReverseAttentionHead(int channels) => Sequential(
        Conv2d(channels, channels, 3, padding: 1),
        ReLU(),
        Conv2d(channels, 1, 3, padding: 1));

    /// <summary>Rounds <paramref name="size"/> × <paramref name="rate"/> to the nearest positive multiple of <paramref name="multiple"/>.</summary>
    /// <remarks>PraNet's multi-scale training: <c>int(round(trainsize * rate / 32) * 32)</c>.</remarks>
    public static int ScaledSize(int size, double rate, int multiple) =>
        Math.Max(multiple, (int)Math.Round(size * rate / multiple, MidpointRounding.AwayFromZero) * multiple);
}

/// <summary>
/// The per-channel mean and standard deviation input images are normalised with, x' = (x − mean)/std.
/// </summary>
/// <param name="Mean">Mean per RGB channel.</param>
/// <param name="Std">Standard deviation per RGB channel.</param>
public sealed record InputNormalization(IReadOnlyList<float> Mean, IReadOnlyList<float> Std)
{
    /// <summary>ImageNet's statistics, which PraNet normalises its inputs with (used for real data sets).</summary>
    public static InputNormalization ImageNet { get; } = new([0.485f, 0.456f, 0.406f], [0.229f, 0.224f, 0.225f]);

    /// <summary>Mean 0.5 and standard deviation 0.25 on every channel, (x − 0.5)·4: the synthetic set's default.</summary>
    public static InputNormalization Centred { get; } = new([0.5f, 0.5f, 0.5f], [0.25f, 0.25f, 0.25f]);

    /// <inheritdoc/>
    public bool Equals(InputNormalization? other) =>
        other is not null && System.Linq.Enumerable.SequenceEqual(Mean, other.Mean) && System.Linq.Enumerable.SequenceEqual(Std, other.Std);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Mean.Count > 0 ? Mean[0] : 0, Std.Count > 0 ? Std[0] : 0);
}
