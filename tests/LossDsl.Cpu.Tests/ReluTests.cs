using System;
using LossDsl.Tests;
using Xunit;

namespace LossDsl.Cpu.Tests;

/// <summary>Relu at its kink, against PyTorch 1.13 (torch.relu of [-1, 0, 2, 0.5] is [0, 0, 2, 0.5], its gradient [0, 0, 1, 1]).</summary>
public class ReluTests
{
    [Fact]
    public void GradientIsZeroAtZero_AsPyTorch()
    {
        var shape = new LossShape(1, 1, 1, 4);
        double[] pred = { -1, 0, 2, 0.5 };
        double[] mask = { 1, 1, 1, 1 };
        var grad = new double[4];
        Assert.Equal(2.5, ReluSum.Cpu.Compute(pred, mask, grad, shape));
        Assert.Equal(new double[] { 0, 0, 1, 1 }, grad);

        var grad32 = new float[4];
        Assert.Equal(2.5f, ReluSum.Cpu.Compute(Inputs.ToFloat(pred), Inputs.ToFloat(mask), grad32, shape));
        Assert.Equal(new float[] { 0, 0, 1, 1 }, grad32);
    }
}
