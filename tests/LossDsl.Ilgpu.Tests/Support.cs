using System;
using ILGPU;
using ILGPU.Runtime;
using LossDsl.Losses;
using Xunit;

namespace LossDsl.Ilgpu.Tests;

/// <summary>One context and CPU accelerator (parallel mode) for every test: it is slow to create and simulates GPU threads.</summary>
public sealed class AcceleratorFixture : IDisposable
{
    public AcceleratorFixture()
    {
        Context = IlgpuBridge.CreateContext();
        Accelerator = IlgpuBridge.CreateAccelerator(Context, preferCuda: false);
    }

    public Context Context { get; }

    public Accelerator Accelerator { get; }

    public void Dispose()
    {
        Accelerator.Dispose();
        Context.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class IlgpuCollection : ICollectionFixture<AcceleratorFixture>
{
    public const string Name = "ilgpu";
}

public delegate float DeviceCompute(ArrayView<float> pred, ArrayView<float> mask, ArrayView<float> predGrad, LossShape shape);

public delegate float HostCompute(ReadOnlySpan<float> pred, ReadOnlySpan<float> mask, Span<float> predGrad, LossShape shape);

/// <summary>The ready-made losses under test, each with its generated ILGPU runner and its generated CPU backend.</summary>
public static class Losses
{
    public static readonly string[] Names = ["StructureLoss", "PraNetStructureLoss", "StructureLossAttributes", "DiceLoss", "FocalDiceLoss", "TverskyLoss", "CrossEntropyLoss", "CrossEntropySmoothedLoss", "SoftmaxDiceLoss", "DiceCELoss", "NnUNetDiceCELoss", "NnUNetSampleDiceCELoss", "DiceCEForegroundLoss", "DiceCEBatchLoss", "SmpDiceLoss", "SmpMultilabelDiceLoss", "SmpJaccardLoss", "SmpTverskyLoss", "SmpFocalLoss"];

    public static (IDisposable Runner, DeviceCompute Device, HostCompute Host) Create(string name, Accelerator accelerator)
    {
        switch (name)
        {
            case "StructureLoss":
                {
                    var r = new StructureLoss.Ilgpu(accelerator);
                    return (r, r.Compute, StructureLoss.Cpu.Compute);
                }

            case "PraNetStructureLoss":
                {
                    var r = new PraNetStructureLoss.Ilgpu(accelerator);
                    return (r, r.Compute, PraNetStructureLoss.Cpu.Compute);
                }

            case "StructureLossAttributes":
                {
                    var r = new StructureLossAttributes.Ilgpu(accelerator);
                    return (r, r.Compute, StructureLossAttributes.Cpu.Compute);
                }

            case "DiceLoss":
                {
                    var r = new DiceLoss.Ilgpu(accelerator);
                    return (r, r.Compute, DiceLoss.Cpu.Compute);
                }

            case "FocalDiceLoss":
                {
                    var r = new FocalDiceLoss.Ilgpu(accelerator);
                    return (r, r.Compute, FocalDiceLoss.Cpu.Compute);
                }

            case "TverskyLoss":
                {
                    var r = new TverskyLoss.Ilgpu(accelerator);
                    return (r, r.Compute, TverskyLoss.Cpu.Compute);
                }

            case "CrossEntropyLoss":
                {
                    var r = new CrossEntropyLoss.Ilgpu(accelerator);
                    return (r, r.Compute, CrossEntropyLoss.Cpu.Compute);
                }

            case "CrossEntropySmoothedLoss":
                {
                    var r = new CrossEntropySmoothedLoss.Ilgpu(accelerator);
                    return (r, r.Compute, CrossEntropySmoothedLoss.Cpu.Compute);
                }

            case "SoftmaxDiceLoss":
                {
                    var r = new SoftmaxDiceLoss.Ilgpu(accelerator);
                    return (r, r.Compute, SoftmaxDiceLoss.Cpu.Compute);
                }

            case "DiceCELoss":
                {
                    var r = new DiceCELoss.Ilgpu(accelerator);
                    return (r, r.Compute, DiceCELoss.Cpu.Compute);
                }

            case "NnUNetDiceCELoss":
                {
                    var r = new NnUNetDiceCELoss.Ilgpu(accelerator);
                    return (r, r.Compute, NnUNetDiceCELoss.Cpu.Compute);
                }

            case "NnUNetSampleDiceCELoss":
                {
                    var r = new NnUNetSampleDiceCELoss.Ilgpu(accelerator);
                    return (r, r.Compute, NnUNetSampleDiceCELoss.Cpu.Compute);
                }

            case "DiceCEForegroundLoss":
                {
                    var r = new DiceCEForegroundLoss.Ilgpu(accelerator);
                    return (r, r.Compute, DiceCEForegroundLoss.Cpu.Compute);
                }

            case "DiceCEBatchLoss":
                {
                    var r = new DiceCEBatchLoss.Ilgpu(accelerator);
                    return (r, r.Compute, DiceCEBatchLoss.Cpu.Compute);
                }

            case "SmpDiceLoss":
                {
                    var r = new SmpDiceLoss.Ilgpu(accelerator);
                    return (r, r.Compute, SmpDiceLoss.Cpu.Compute);
                }

            case "SmpMultilabelDiceLoss":
                {
                    var r = new SmpMultilabelDiceLoss.Ilgpu(accelerator);
                    return (r, r.Compute, SmpMultilabelDiceLoss.Cpu.Compute);
                }

            case "SmpJaccardLoss":
                {
                    var r = new SmpJaccardLoss.Ilgpu(accelerator);
                    return (r, r.Compute, SmpJaccardLoss.Cpu.Compute);
                }

            case "SmpTverskyLoss":
                {
                    var r = new SmpTverskyLoss.Ilgpu(accelerator);
                    return (r, r.Compute, SmpTverskyLoss.Cpu.Compute);
                }

            case "SmpFocalLoss":
                {
                    var r = new SmpFocalLoss.Ilgpu(accelerator);
                    return (r, r.Compute, SmpFocalLoss.Cpu.Compute);
                }

            default:
                throw new ArgumentOutOfRangeException(nameof(name), name, null);
        }
    }
}

/// <summary>Inputs and comparisons.</summary>
public static class Data
{
    /// <summary>Logits in [-4, 4] and a mask of blobs (binary) or soft targets, deterministic per seed.</summary>
    public static (float[] Pred, float[] Mask) Make(LossShape s, int seed, bool soft = false)
    {
        var rng = new Random(seed);
        var pred = new float[s.Length];
        var mask = new float[s.Length];
        for (int p = 0; p < s.Planes; p++)
        {
            double cy = rng.NextDouble() * s.H, cx = rng.NextDouble() * s.W, r = (0.2 + (0.3 * rng.NextDouble())) * Math.Min(s.H, s.W);
            for (int y = 0; y < s.H; y++)
            {
                for (int x = 0; x < s.W; x++)
                {
                    int i = (p * s.PlaneSize) + (y * s.W) + x;
                    double d = Math.Sqrt(((y - cy) * (y - cy)) + ((x - cx) * (x - cx)));
                    mask[i] = soft ? (float)rng.NextDouble() : d < r ? 1f : 0f;
                    pred[i] = (float)((rng.NextDouble() * 8) - 4);
                }
            }
        }

        return (pred, mask);
    }

    public static float[] ToFloat(double[] values) => Array.ConvertAll(values, v => (float)v);

    /// <summary>Asserts |actual − expected| ≤ tol·max|expected| element-wise (gradient tolerance of float32 kernels).</summary>
    public static void AssertGradient(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double tol = 1e-4)
    {
        Assert.Equal(expected.Length, actual.Length);
        double scale = 0;
        foreach (float e in expected)
        {
            scale = Math.Max(scale, Math.Abs(e));
        }

        double bound = tol * Math.Max(scale, 1e-30);
        for (int i = 0; i < expected.Length; i++)
        {
            double err = Math.Abs(actual[i] - expected[i]);
            Assert.True(err <= bound, $"gradient[{i}]: expected {expected[i]:R}, got {actual[i]:R} (|err| {err:E3} > {bound:E3})");
        }
    }

    public static void AssertLoss(double expected, double actual, double tol = 1e-4) =>
        Assert.True(Math.Abs(actual - expected) <= tol * Math.Max(Math.Abs(expected), 1e-6), $"loss: expected {expected:R}, got {actual:R}");
}
