using System;
using System.Runtime.Intrinsics;
using LossDsl.Tests;
using Xunit;

namespace LossDsl.Cpu.Tests;

/// <summary>Serialises the tests that switch the kernels' vector width (a process-wide setting).</summary>
[CollectionDefinition(nameof(VectorWidth), DisableParallelization = true)]
public sealed class VectorWidth;

/// <summary>
/// The generated kernels run their main loop over <see cref="Vector512{T}"/> where the hardware has it and over
/// <see cref="Vector256{T}"/> otherwise; the width must change the speed only, never a bit of the loss or the gradient.
/// </summary>
[Collection(nameof(VectorWidth))]
public class VectorWidthTests
{
    public static TheoryData<int, int, int, int, int> Shapes => new()
    {
        { 1, 1, 1, 1, 1 },
        { 1, 1, 1, 15, 2 },
        { 2, 3, 5, 7, 3 },
        { 1, 2, 17, 31, 4 },
        { 2, 1, 33, 70, 5 },
        { 1, 1, 64, 64, 6 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void BothWidths_GiveTheSameBits(int n, int c, int h, int w, int seed)
    {
        var shape = new LossShape(n, c, h, w);
        var (pred, mask) = Inputs.Random(shape, seed, softMask: true);
        var pred32 = Inputs.ToFloat(pred);
        var mask32 = Inputs.ToFloat(mask);

        (float, float[], double, double[], double, double[]) Run(bool wide)
        {
            bool saved = VectorMath.UseVector512;
            VectorMath.UseVector512 = wide;
            try
            {
                var g32 = new float[shape.Length];
                float l32 = WeightedK31.Cpu.Compute(pred32, mask32, g32, shape);
                var g64 = new double[shape.Length];
                double l64 = WeightedK31.Cpu.Compute(pred, mask, g64, shape);
                var k64 = new double[shape.Length];
                double kitchen = Kitchen.Cpu.Compute(pred, mask, k64, shape);
                return (l32, g32, l64, g64, kitchen, k64);
            }
            finally
            {
                VectorMath.UseVector512 = saved;
            }
        }

        var narrow = Run(wide: false);
        var wide = Run(wide: true);
        Assert.Equal(BitConverter.SingleToInt32Bits(narrow.Item1), BitConverter.SingleToInt32Bits(wide.Item1));
        Assert.Equal(narrow.Item2, wide.Item2);
        Assert.Equal(BitConverter.DoubleToInt64Bits(narrow.Item3), BitConverter.DoubleToInt64Bits(wide.Item3));
        Assert.Equal(narrow.Item4, wide.Item4);
        Assert.Equal(BitConverter.DoubleToInt64Bits(narrow.Item5), BitConverter.DoubleToInt64Bits(wide.Item5));
        Assert.Equal(narrow.Item6, wide.Item6);
    }

    [Fact]
    public void Default_FollowsTheHardware() =>
        Assert.Equal(Vector512.IsHardwareAccelerated, VectorMath.UseVector512);
}
