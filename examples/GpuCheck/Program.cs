// GPU check: the generated ILGPU backend of StructureLoss against the generated CPU backend, with timings.
// With a CUDA device: 8×1×352×352 on the GPU. Without one: says so and runs the ILGPU CPU accelerator on a small shape.
using System;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using ILGPU;
using ILGPU.Runtime;
using LossDsl;
using LossDsl.Ilgpu;
using LossDsl.Losses;

CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
int runs = args.Length > 0 && int.TryParse(args[0], out int r) && r > 0 ? r : 0;

using var context = IlgpuBridge.CreateContext();
bool cuda = IlgpuBridge.HasCuda(context);
if (!cuda)
{
    Console.WriteLine("No CUDA device found: running the ILGPU CPU accelerator (simulated GPU threads, slow) on a small shape instead.");
}

var shape = cuda ? new LossShape(8, 1, 352, 352) : new LossShape(2, 1, 64, 64);
runs = runs > 0 ? runs : cuda ? 50 : 5;
// GPU kernels use approximate exp/log (ex2/lg2), and the per-plane sums come from atomic adds in any order.
double tolerance = cuda ? 1e-3 : 1e-4;

using var accelerator = IlgpuBridge.CreateAccelerator(context, preferCuda: true);
Console.WriteLine($"device: {accelerator.Name} ({accelerator.AcceleratorType}), warp {accelerator.WarpSize}, max group {accelerator.MaxNumThreadsPerGroup}, group used {IlgpuBridge.GroupSize(accelerator)}");
Console.WriteLine($"shape: {shape} (N×C×H×W), timed runs: {runs}");

var (pred, mask) = Inputs(shape, seed: 42);

// Reference: the generated CPU backend (float).
var cpuGrad = new float[shape.Length];
float cpuLoss = StructureLoss.Cpu.Compute(pred, mask, cpuGrad, shape);
for (int i = 0; i < 3; i++)
{
    StructureLoss.Cpu.Compute(pred, mask, cpuGrad, shape);
}

double cpuMs = Median(runs, () => StructureLoss.Cpu.Compute(pred, mask, cpuGrad, shape));

var sw = Stopwatch.StartNew();
using var runner = new StructureLoss.Ilgpu(accelerator);
double loadMs = sw.Elapsed.TotalMilliseconds;

using var dPred = accelerator.Allocate1D(pred);
using var dMask = accelerator.Allocate1D(mask);
using var dGrad = accelerator.Allocate1D<float>(shape.Length);
using var dLoss = accelerator.Allocate1D<float>(1);

sw.Restart();
float gpuLoss = runner.Compute(dPred.View, dMask.View, dGrad.View, shape); // first call: buffers + JIT
double firstMs = sw.Elapsed.TotalMilliseconds;
var gpuGrad = dGrad.GetAsArray1D();

for (int i = 0; i < 3; i++)
{
    runner.Compute(dPred.View, dMask.View, dGrad.View, dLoss.View, shape);
}

accelerator.Synchronize();
double deviceMs = Median(runs, () =>
{
    runner.Compute(dPred.View, dMask.View, dGrad.View, dLoss.View, shape);
    accelerator.Synchronize();
});
double hostMs = Median(runs, () => runner.Compute(dPred.View, dMask.View, dGrad.View, shape));
double forwardMs = Median(runs, () =>
{
    runner.Compute(dPred.View, dMask.View, default, dLoss.View, shape);
    accelerator.Synchronize();
});

double lossErr = Math.Abs(gpuLoss - cpuLoss) / Math.Max(Math.Abs(cpuLoss), 1e-12);
double gradScale = cpuGrad.Max(g => Math.Abs(g));
double gradErr = cpuGrad.Zip(gpuGrad, (a, b) => Math.Abs(a - b)).Max() / Math.Max(gradScale, 1e-30);
bool ok = lossErr <= tolerance && gradErr <= tolerance;

Console.WriteLine();
Console.WriteLine($"{"",-44} {"value",14}");
Console.WriteLine($"{"loss, CPU backend",-44} {cpuLoss,14:G9}");
Console.WriteLine($"{"loss, ILGPU backend",-44} {gpuLoss,14:G9}");
Console.WriteLine($"{"loss relative error",-44} {lossErr,14:0.00e+00}");
Console.WriteLine($"{"gradient max |error| / max |grad|",-44} {gradErr,14:0.00e+00}");
Console.WriteLine($"{"tolerance",-44} {tolerance,14:0e+00}");
Console.WriteLine();
Console.WriteLine($"{"timing (median of " + runs + ")",-44} {"ms",14}");
Console.WriteLine($"{"kernel load (constructor)",-44} {loadMs,14:F3}");
Console.WriteLine($"{"first call (allocation, JIT)",-44} {firstMs,14:F3}");
Console.WriteLine($"{"ILGPU forward + backward, loss on device",-44} {deviceMs,14:F3}");
Console.WriteLine($"{"ILGPU forward + backward, loss to host",-44} {hostMs,14:F3}");
Console.WriteLine($"{"ILGPU forward only, loss on device",-44} {forwardMs,14:F3}");
Console.WriteLine($"{"CPU backend forward + backward",-44} {cpuMs,14:F3}");
Console.WriteLine();
Console.WriteLine(ok ? "OK: the ILGPU backend matches the CPU backend." : "MISMATCH: the ILGPU backend differs from the CPU backend beyond the tolerance.");
return ok ? 0 : 1;

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

static (float[] Pred, float[] Mask) Inputs(LossShape s, int seed)
{
    var rng = new Random(seed);
    var pred = new float[s.Length];
    var mask = new float[s.Length];
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
                pred[i] = (float)((inside ? 1.5 : -1.5) + ((rng.NextDouble() * 4) - 2));
            }
        }
    }

    return (pred, mask);
}
