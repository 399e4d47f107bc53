using System;
using ILGPU;
using ILGPU.Runtime;
using Xunit;

namespace LossDsl.Ilgpu.Tests;

/// <summary>
/// The shared box-filter kernels against a direct double sum over the clipped window (PyTorch's <c>avg_pool2d</c> with
/// <c>count_include_pad=True</c>: divisor k² everywhere), on shapes that reach every case of the tiling: rows narrower than
/// the window, rows spanning several tiles, columns spanning several segments, windows wider than a segment.
/// </summary>
[Collection(IlgpuCollection.Name)]
public sealed class StencilKernelTests(AcceleratorFixture fixture)
{
    private readonly Accelerator _acc = fixture.Accelerator;

    [Theory]
    [InlineData(2, 5, 7, 3)]
    [InlineData(1, 9, 4, 31)]     // the window is wider and taller than the plane
    [InlineData(2, 70, 5, 65)]    // h spans two segments of 65 rows
    [InlineData(1, 40, 300, 31)]  // w spans two tiles of 256 columns on a GPU-sized group
    [InlineData(3, 33, 37, 5)]    // h spans two segments of 32 rows
    public void BoxFilterMatchesDirectSum(int planes, int h, int w, int k)
    {
        var rng = new Random(planes + (h * 7) + (w * 13) + k);
        var src = new float[planes * h * w];
        for (int i = 0; i < src.Length; i++)
        {
            src[i] = (float)rng.NextDouble();
        }

        int group = IlgpuBridge.GroupSize(_acc);
        var rows = _acc.LoadKernel<ArrayView<float>, ArrayView<float>, int, int, int>(IlgpuStencils.BoxRows);
        var columns = _acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int, int, int, int>(IlgpuStencils.BoxColumns);
        using var dSrc = _acc.Allocate1D(src);
        using var work = _acc.Allocate1D<float>(src.Length);
        using var dst = _acc.Allocate1D<float>(src.Length);
        int tiles = IlgpuStencils.RowTiles(w, group);
        rows(_acc.DefaultStream, new KernelConfig(planes * h * tiles, group), dSrc.View, work.View, w, k, tiles);
        columns(IlgpuStencils.ColumnThreads(planes, h, w, k), work.View, dst.View, h, w, k, IlgpuStencils.ColumnSegment(k));
        var actual = dst.GetAsArray1D();

        int rad = k / 2;
        for (int p = 0; p < planes; p++)
        {
            for (int y = 0; y < h; y++)
            {
                for (int x = 0; x < w; x++)
                {
                    double sum = 0;
                    for (int yy = Math.Max(0, y - rad); yy <= Math.Min(h - 1, y + rad); yy++)
                    {
                        for (int xx = Math.Max(0, x - rad); xx <= Math.Min(w - 1, x + rad); xx++)
                        {
                            sum += src[(p * h * w) + (yy * w) + xx];
                        }
                    }

                    double expected = sum / ((double)k * k);
                    float got = actual[(p * h * w) + (y * w) + x];
                    Assert.True(Math.Abs(got - expected) <= 1e-6 * Math.Max(1, expected), $"plane {p}, y {y}, x {x}: expected {expected:R}, got {got:R} (group {group})");
                }
            }
        }
    }
}
