// GPU check: the generated ILGPU backend of StructureLoss against the generated CPU backend, with timings, at PraNet's
// training sizes: 8×1×352×352, 16×1×352×352, and 16×1×352×352 with 4 side outputs (deep supervision: the loss summed
// over the outputs). With a CUDA device it runs there; without one it says so and runs the ILGPU CPU accelerator on
// small shapes. Options: --runs N (timed runs), --json FILE (results for torch_structure_loss.py), --dump DIR (the
// inputs as raw float32, so that PyTorch computes the loss of the same numbers), --cpu (ignore CUDA).
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;
using ILGPU;
using ILGPU.Runtime;
using LossDsl;
using LossDsl.Ilgpu;
using LossDsl.Losses;

CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
int runs = 0;
string? jsonPath = null, dumpDir = null;
bool forceCpu = false;
for (int a = 0; a < args.Length; a++)
{
    switch (args[a])
    {
        case "--runs" when a + 1 < args.Length && int.TryParse(args[a + 1], out int n) && n > 0:
            runs = n;
            a++;
            break;
        case "--json" when a + 1 < args.Length:
            jsonPath = args[++a];
            break;
        case "--dump" when a + 1 < args.Length:
            dumpDir = args[++a];
            break;
        case "--cpu":
            forceCpu = true;
            break;
        default:
            if (int.TryParse(args[a], out int m) && m > 0)
            {
                runs = m; // the old positional form: GpuCheck [runs]
                break;
            }

            Console.Error.WriteLine($"unknown argument '{args[a]}'; usage: GpuCheck [--runs N] [--json FILE] [--dump DIR] [--cpu]");
            return 2;
    }
}

using var context = IlgpuBridge.CreateContext();
bool cuda = !forceCpu && IlgpuBridge.HasCuda(context);
if (!cuda)
{
    Console.WriteLine(forceCpu
        ? "--cpu: running the ILGPU CPU accelerator (simulated GPU threads, slow) on small shapes."
        : "No CUDA device found: running the ILGPU CPU accelerator (simulated GPU threads, slow) on small shapes instead.");
}

// PraNet trains at 352×352, batch 16, 4 side outputs; the CPU accelerator gets shapes it finishes in seconds.
(LossShape Shape, int Outputs)[] cases = cuda
    ? [(new LossShape(8, 1, 352, 352), 1), (new LossShape(16, 1, 352, 352), 1), (new LossShape(16, 1, 352, 352), 4)]
    : [(new LossShape(2, 1, 64, 64), 1), (new LossShape(4, 1, 64, 64), 1), (new LossShape(2, 1, 64, 64), 4)];
runs = runs > 0 ? runs : cuda ? 50 : 3;
int cpuRuns = cuda ? Math.Min(runs, 10) : runs;
int warmUp = cuda ? 3 : 1;
// GPU kernels use approximate exp/log (ex2/lg2), and the per-plane sums come from atomic adds in any order.
double tolerance = cuda ? 1e-3 : 1e-4;

using var accelerator = cuda ? IlgpuBridge.CreateAccelerator(context, preferCuda: true) : IlgpuBridge.CreateAccelerator(context, preferCuda: false);
Console.WriteLine($"device: {accelerator.Name} ({accelerator.AcceleratorType}), warp {accelerator.WarpSize}, max group {accelerator.MaxNumThreadsPerGroup}, group used {IlgpuBridge.GroupSize(accelerator)}");
Console.WriteLine($"timed runs: {runs} on the device, {cpuRuns} on the CPU backend ({Environment.ProcessorCount} cores), after {warmUp} warm-up calls each");

var sw = Stopwatch.StartNew();
using var runner = new StructureLoss.Ilgpu(accelerator);
double loadMs = sw.Elapsed.TotalMilliseconds;
Console.WriteLine($"kernel load (constructor): {loadMs:F1} ms");

var results = new List<Dictionary<string, object>>();
bool allOk = true;
foreach (var (shape, outputs) in cases)
{
    string name = $"{shape.N}x{shape.C}x{shape.H}x{shape.W}" + (outputs > 1 ? $"x{outputs}out" : string.Empty);
    var (preds, mask) = Inputs(shape, outputs, seed: 42);
    if (dumpDir is not null)
    {
        Directory.CreateDirectory(dumpDir);
        WriteFloats(Path.Combine(dumpDir, name + ".mask.f32"), mask);
        for (int o = 0; o < outputs; o++)
        {
            WriteFloats(Path.Combine(dumpDir, $"{name}.pred{o}.f32"), preds[o]);
        }
    }

    // Reference: the generated CPU backend (float), the loss summed over the outputs.
    var cpuGrads = Enumerable.Range(0, outputs).Select(_ => new float[shape.Length]).ToArray();
    double CpuStep()
    {
        double total = 0;
        for (int o = 0; o < outputs; o++)
        {
            total += StructureLoss.Cpu.Compute(preds[o], mask, cpuGrads[o], shape);
        }

        return total;
    }

    double cpuLoss = CpuStep();
    for (int i = 0; i < warmUp; i++)
    {
        CpuStep();
    }

    double cpuMs = Median(cpuRuns, () => CpuStep());

    var dPreds = preds.Select(p => accelerator.Allocate1D(p)).ToArray();
    var dGrads = Enumerable.Range(0, outputs).Select(_ => accelerator.Allocate1D<float>(shape.Length)).ToArray();
    using var dMask = accelerator.Allocate1D(mask);
    using var dLoss = accelerator.Allocate1D<float>(outputs);

    // One training step's loss work: forward + backward of every output, each loss left on the device.
    void DeviceStep()
    {
        for (int o = 0; o < outputs; o++)
        {
            runner.Compute(dPreds[o].View, dMask.View, dGrads[o].View, dLoss.View.SubView(o, 1), shape);
        }
    }

    sw.Restart();
    DeviceStep();
    accelerator.Synchronize();
    double firstMs = sw.Elapsed.TotalMilliseconds;
    double gpuLoss = dLoss.GetAsArray1D().Sum(v => (double)v);
    double gradErr = 0, gradScale = 0;
    for (int o = 0; o < outputs; o++)
    {
        var g = dGrads[o].GetAsArray1D();
        for (int i = 0; i < g.Length; i++)
        {
            gradScale = Math.Max(gradScale, Math.Abs(cpuGrads[o][i]));
            gradErr = Math.Max(gradErr, Math.Abs(cpuGrads[o][i] - g[i]));
        }
    }

    gradErr /= Math.Max(gradScale, 1e-30);
    for (int i = 0; i < warmUp; i++)
    {
        DeviceStep();
    }

    accelerator.Synchronize();
    double deviceMs = Median(runs, () =>
    {
        DeviceStep();
        accelerator.Synchronize();
    });

    foreach (var b in dPreds.Concat(dGrads))
    {
        b.Dispose();
    }

    double lossErr = Math.Abs(gpuLoss - cpuLoss) / Math.Max(Math.Abs(cpuLoss), 1e-12);
    bool ok = lossErr <= tolerance && gradErr <= tolerance;
    allOk &= ok;
    Console.WriteLine();
    Console.WriteLine($"{name}: loss CPU {cpuLoss:G9}, ILGPU {gpuLoss:G9}, relative error {lossErr:0.00e+00}; gradient max |error| / max |grad| {gradErr:0.00e+00} (tolerance {tolerance:0e+00}: {(ok ? "ok" : "MISMATCH")})");
    Console.WriteLine($"{name}: ILGPU forward + backward {deviceMs:F3} ms (median, loss on device, synchronised; first call {firstMs:F1} ms); CPU backend {cpuMs:F3} ms");
    results.Add(new Dictionary<string, object>
    {
        ["name"] = name,
        ["n"] = shape.N,
        ["c"] = shape.C,
        ["h"] = shape.H,
        ["w"] = shape.W,
        ["outputs"] = outputs,
        ["ilgpu_ms"] = deviceMs,
        ["ilgpu_first_ms"] = firstMs,
        ["cpu_ms"] = cpuMs,
        ["loss_cpu"] = cpuLoss,
        ["loss_ilgpu"] = gpuLoss,
        ["loss_rel_err"] = lossErr,
        ["grad_err"] = gradErr,
        ["ok"] = ok,
    });
}

if (jsonPath is not null)
{
    var doc = new Dictionary<string, object>
    {
        ["device"] = accelerator.Name,
        ["accelerator"] = accelerator.AcceleratorType.ToString(),
        ["cuda"] = cuda,
        ["runs"] = runs,
        ["tolerance"] = tolerance,
        ["kernel_load_ms"] = loadMs,
        ["cases"] = results,
    };
    File.WriteAllText(jsonPath, JsonSerializer.Serialize(doc, new JsonSerializerOptions { WriteIndented = true }));
    Console.WriteLine($"results written to {jsonPath}");
}

Console.WriteLine();
Console.WriteLine(allOk ? "OK: the ILGPU backend matches the CPU backend." : "MISMATCH: the ILGPU backend differs from the CPU backend beyond the tolerance.");
return allOk ? 0 : 1;

static double Median(int n, Action action)
{
    var times = new double[n];
    for (int i = 0; i < n; i++)
    {
        long t0 = Stopwatch.GetTimestamp();
        action();
        times[i] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
    }

    Array.Sort(times);
    return n % 2 == 1 ? times[n / 2] : (times[(n / 2) - 1] + times[n / 2]) / 2;
}

static void WriteFloats(string path, float[] values)
{
    var bytes = new byte[values.Length * sizeof(float)];
    Buffer.BlockCopy(values, 0, bytes, 0, bytes.Length);
    File.WriteAllBytes(path, bytes); // little-endian float32, as numpy.fromfile(path, '<f4') reads it
}

// A disc per image (binary mask) and logits that roughly agree with it; each output its own noise.
static (float[][] Preds, float[] Mask) Inputs(LossShape s, int outputs, int seed)
{
    var rng = new Random(seed);
    var mask = new float[s.Length];
    var centre = new float[s.Length];
    for (int p = 0; p < s.Planes; p++)
    {
        double cy = rng.NextDouble() * s.H, cx = rng.NextDouble() * s.W, radius = (0.15 + (0.25 * rng.NextDouble())) * Math.Min(s.H, s.W);
        for (int y = 0; y < s.H; y++)
        {
            for (int x = 0; x < s.W; x++)
            {
                int i = (p * s.PlaneSize) + (y * s.W) + x;
                bool inside = Math.Sqrt(((y - cy) * (y - cy)) + ((x - cx) * (x - cx))) < radius;
                mask[i] = inside ? 1f : 0f;
                centre[i] = inside ? 1.5f : -1.5f;
            }
        }
    }

    var preds = new float[outputs][];
    for (int o = 0; o < outputs; o++)
    {
        preds[o] = new float[s.Length];
        for (int i = 0; i < s.Length; i++)
        {
            preds[o][i] = (float)(centre[i] + ((rng.NextDouble() * 4) - 2));
        }
    }

    return (preds, mask);
}
