using System;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LossDsl.TorchSharp.Tests;

public class TensorBridgeTests
{
    static Tensor Nchw(ScalarType dtype = ScalarType.Float32, long n = 2, long c = 1, long h = 4, long w = 5) =>
        torch.rand(new[] { n, c, h, w }, dtype: ScalarType.Float64).to_type(dtype);

    static void AssertParam(string expectedParam, Action action, string? messagePart = null)
    {
        var ex = Assert.ThrowsAny<ArgumentException>(action);
        Assert.Equal(expectedParam, ex.ParamName);
        if (messagePart is not null)
        {
            Assert.Contains(messagePart, ex.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void ValidPairReturnsItsShape()
    {
        using var scope = torch.NewDisposeScope();
        var pred = Nchw(n: 3, c: 2, h: 7, w: 9).requires_grad_(true);
        var mask = Nchw(n: 3, c: 2, h: 7, w: 9);
        Assert.Equal(new LossShape(3, 2, 7, 9), TensorBridge.ValidatePair(pred, mask, "pred", "mask"));

        var p64 = Nchw(ScalarType.Float64);
        var m64 = Nchw(ScalarType.Float64);
        Assert.Equal(new LossShape(2, 1, 4, 5), TensorBridge.ValidatePair(p64, m64, "pred", "mask"));
    }

    [Fact]
    public void WrongRankNamesTheArgument()
    {
        using var scope = torch.NewDisposeScope();
        AssertParam("logits", () => TensorBridge.ValidatePair(torch.rand(2, 4, 5), Nchw(), "logits", "target"), "(rank 4)");
        AssertParam("target", () => TensorBridge.ValidatePair(Nchw(), torch.rand(4, 5), "logits", "target"), "rank 2");
        AssertParam("target", () => TensorBridge.ValidatePair(Nchw(), torch.rand(new long[] { 2, 1, 1, 4, 5 }), "logits", "target"), "same N×C×H×W shape");
        AssertParam("logits", () => TensorBridge.ValidatePair(torch.rand(new long[] { 1, 2, 1, 1, 4, 5 }), Nchw(), "logits", "target"), "rank 6");
    }

    [Fact]
    public void MismatchedShapesNameTheTarget()
    {
        using var scope = torch.NewDisposeScope();
        AssertParam("mask", () => TensorBridge.ValidatePair(Nchw(h: 4), Nchw(h: 8), "pred", "mask"), "[2, 1, 8, 5]");
        AssertParam("mask", () => TensorBridge.ValidatePair(Nchw(c: 1), Nchw(c: 3), "pred", "mask"));
    }

    [Fact]
    public void IntegerDtypeIsRejected()
    {
        using var scope = torch.NewDisposeScope();
        AssertParam("pred", () => TensorBridge.ValidatePair(Nchw(ScalarType.Int32), Nchw(), "pred", "mask"), "int32");
        AssertParam("mask", () => TensorBridge.ValidatePair(Nchw(), Nchw(ScalarType.Int64), "pred", "mask"), "int64");
        AssertParam("mask", () => TensorBridge.ValidatePair(Nchw(), Nchw(ScalarType.Bool), "pred", "mask"));
    }

    [Fact]
    public void HalfPrecisionIsRejectedWithAHint()
    {
        using var scope = torch.NewDisposeScope();
        AssertParam("pred", () => TensorBridge.ValidatePair(Nchw(ScalarType.Float16), Nchw(), "pred", "mask"), "float32");
        AssertParam("pred", () => TensorBridge.ValidatePair(Nchw(ScalarType.BFloat16), Nchw(), "pred", "mask"), "bfloat16");
    }

    [Fact]
    public void DtypeMismatchNamesTheTarget()
    {
        using var scope = torch.NewDisposeScope();
        AssertParam("mask", () => TensorBridge.ValidatePair(Nchw(ScalarType.Float32), Nchw(ScalarType.Float64), "pred", "mask"), "float64");
    }

    [Fact]
    public void TargetThatRequiresGradIsRejected()
    {
        using var scope = torch.NewDisposeScope();
        var mask = Nchw().requires_grad_(true);
        AssertParam("mask", () => TensorBridge.ValidatePair(Nchw(), mask, "pred", "mask"), "detach");
        // detached, it is fine
        TensorBridge.ValidatePair(Nchw(), mask.detach(), "pred", "mask");
    }

    [Fact]
    public void NullAndDisposedTensorsAreRejected()
    {
        using var scope = torch.NewDisposeScope();
        var ex = Assert.Throws<ArgumentNullException>(() => TensorBridge.ValidatePair(null!, Nchw(), "pred", "mask"));
        Assert.Equal("pred", ex.ParamName);
        var gone = Nchw();
        gone.Dispose();
        AssertParam("mask", () => TensorBridge.ValidatePair(Nchw(), gone, "pred", "mask"), "disposed");
    }

    [Fact]
    public void ContiguousReturnsTheSameTensorWhenAlreadyNchw()
    {
        using var scope = torch.NewDisposeScope();
        var t = Nchw();
        Assert.Same(t, TensorBridge.Contiguous(t));
    }

    [Fact]
    public void ContiguousCopiesStridedAndChannelsLastTensors()
    {
        using var scope = torch.NewDisposeScope();
        var t = Nchw(c: 3, h: 4, w: 5);

        var transposed = t.transpose(2, 3); // 2x3x5x4 view
        var c1 = TensorBridge.Contiguous(transposed);
        Assert.NotSame(transposed, c1);
        Assert.True(c1.is_contiguous());
        Assert.True(c1.eq(transposed).all().item<bool>());

        // A channels-last tensor: NCHW shape, NHWC memory.
        var channelsLast = t.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2);
        Assert.False(channelsLast.is_contiguous());
        var c2 = TensorBridge.Contiguous(channelsLast);
        Assert.NotSame(channelsLast, c2);
        Assert.True(c2.is_contiguous());
        Assert.Equal(t.data<float>().ToArray(), TensorBridge.AsReadOnlySpan<float>(c2).ToArray());
    }

    [Fact]
    public void AsSpanIsZeroCopy()
    {
        using var scope = torch.NewDisposeScope();
        var t = torch.arange(0, 24, dtype: ScalarType.Float32).reshape(2, 3, 2, 2);
        Span<float> span = TensorBridge.AsSpan<float>(t);
        Assert.Equal(24, span.Length);
        Assert.Equal(13f, span[13]);

        span[5] = -1f; // writes through to the tensor
        Assert.Equal(-1f, t.flatten()[5].item<float>());

        // A contiguous slice with a storage offset: the span starts at the slice.
        var second = t.narrow(0, 1, 1);
        Assert.True(second.is_contiguous());
        ReadOnlySpan<float> s2 = TensorBridge.AsReadOnlySpan<float>(second);
        Assert.Equal(12, s2.Length);
        Assert.Equal(12f, s2[0]);

        var d = torch.ones(1, 1, 2, 2, dtype: ScalarType.Float64);
        Assert.Equal(new[] { 1.0, 1.0, 1.0, 1.0 }, TensorBridge.AsReadOnlySpan<double>(d).ToArray());
        GC.KeepAlive(t);
    }

    [Fact]
    public void AsSpanRejectsWrongDtypeAndNonContiguousTensors()
    {
        using var scope = torch.NewDisposeScope();
        var t = Nchw(ScalarType.Float32, c: 2);
        Assert.Throws<ArgumentException>(() => TensorBridge.AsSpan<double>(t));
        Assert.Throws<ArgumentException>(() => TensorBridge.AsSpan<int>(t));
        Assert.Throws<ArgumentException>(() => TensorBridge.AsSpan<float>(t.transpose(2, 3)));
    }

    [Fact]
    public void LiveTensorCountsFollowCreationAndDisposal()
    {
        long thread0 = TensorBridge.ThreadLiveTensorCount();
        long total0 = TensorBridge.LiveTensorCount();
        var t = torch.zeros(3);
        Assert.Equal(thread0 + 1, TensorBridge.ThreadLiveTensorCount());
        Assert.True(TensorBridge.LiveTensorCount() >= 1);
        t.Dispose();
        Assert.Equal(thread0, TensorBridge.ThreadLiveTensorCount());

        using (torch.NewDisposeScope())
        {
            _ = torch.ones(2) + torch.ones(2);
        }
        Assert.Equal(thread0, TensorBridge.ThreadLiveTensorCount());
        GC.KeepAlive(total0);
    }
}
