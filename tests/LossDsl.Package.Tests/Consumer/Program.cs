// The consumer app of PackageConsumerTests: written into a fresh `dotnet new console` project outside the repository,
// which references the packed LossDsl packages only. It declares its own loss, runs the generated CPU, TorchSharp and
// ILGPU (CPU accelerator) backends and a ready-made loss of LossDsl.Losses, and checks each against the generated
// reference interpreter (double precision, plain loops) and the gradient against central differences of it.
// Exit code 0 and one "ok ..." line per check when everything agrees.
using System;
using ILGPU;
using ILGPU.Runtime;
using LossDsl;
using LossDsl.Ilgpu;
using TorchSharp;
using static LossDsl.Dsl;

var shape = new LossShape(2, 1, 9, 11);
var rng = new Random(7);
var pred = new float[shape.Length];
var mask = new float[shape.Length];
for (int i = 0; i < pred.Length; i++)
{
    pred[i] = (float)((rng.NextDouble() * 4) - 2);
    mask[i] = rng.NextDouble() < 0.4 ? 1f : rng.NextDouble() < 0.2 ? 0.5f : 0f;
}

double Reference(float[] p) => ConsumerLoss.Reference.Compute(new Logits(shape, Array.ConvertAll(p, v => (double)v)), new Target(shape, Array.ConvertAll(mask, v => (double)v)));

int failures = 0;
void Check(string what, double actual, double expected, double tolerance)
{
    double error = Math.Abs(actual - expected) / Math.Max(1e-12, Math.Abs(expected));
    bool ok = error <= tolerance && double.IsFinite(actual);
    Console.WriteLine($"{(ok ? "ok" : "FAIL")} {what}: {actual:R} vs reference {expected:R} (relative error {error:E2})");
    failures += ok ? 0 : 1;
}

double expected = Reference(pred);

// The gradient the backends must produce, from central differences of the reference interpreter (double precision).
var fdIndices = new[] { 0, 17, 50, 101, 150, shape.Length - 1 };
var fd = new double[fdIndices.Length];
for (int k = 0; k < fdIndices.Length; k++)
{
    const double h = 1e-3;
    var plus = (float[])pred.Clone();
    var minus = (float[])pred.Clone();
    plus[fdIndices[k]] += (float)h;
    minus[fdIndices[k]] -= (float)h;
    double step = (double)plus[fdIndices[k]] - minus[fdIndices[k]];
    fd[k] = (Reference(plus) - Reference(minus)) / step;
}

double gradScale = 0;
foreach (var g in fd)
{
    gradScale = Math.Max(gradScale, Math.Abs(g));
}

void CheckGradient(string what, Func<int, double> grad)
{
    double worst = 0;
    for (int k = 0; k < fdIndices.Length; k++)
    {
        worst = Math.Max(worst, Math.Abs(grad(fdIndices[k]) - fd[k]) / gradScale);
    }

    bool ok = worst <= 1e-3;
    Console.WriteLine($"{(ok ? "ok" : "FAIL")} {what} gradient: worst error {worst:E2} of the gradient scale against central differences of the reference");
    failures += ok ? 0 : 1;
}

// 1. CPU backend on spans.
var cpuGrad = new float[shape.Length];
float cpu = ConsumerLoss.Cpu.Compute(pred, mask, cpuGrad, shape);
Check("cpu", cpu, expected, 1e-5);
CheckGradient("cpu", i => cpuGrad[i]);

// 2. TorchSharp: autograd through the generated backward (needs the native-library fix of LossDsl.TorchSharp's package).
{
    long[] dims = { shape.N, shape.C, shape.H, shape.W };
    using var p = torch.tensor(pred, dims).requires_grad_(true);
    using var m = torch.tensor(mask, dims);
    using var loss = ConsumerLoss.Compute(p, m);
    loss.backward();
    Check("torchsharp", loss.item<float>(), expected, 1e-5);
    var g = p.grad!.data<float>().ToArray();
    CheckGradient("torchsharp", i => g[i]);
}

// 3. ILGPU on its CPU accelerator.
{
    using var context = IlgpuBridge.CreateContext();
    using var accelerator = IlgpuBridge.CreateAccelerator(context, preferCuda: false);
    using var runner = new ConsumerLoss.Ilgpu(accelerator);
    using var dPred = accelerator.Allocate1D(pred);
    using var dMask = accelerator.Allocate1D(mask);
    using var dGrad = accelerator.Allocate1D<float>(shape.Length);
    float value = runner.Compute(dPred.View, dMask.View, dGrad.View, shape);
    var g = dGrad.GetAsArray1D();
    Check("ilgpu-cpu", value, expected, 1e-4);
    CheckGradient("ilgpu-cpu", i => g[i]);
}

// 4. A ready-made loss from LossDsl.Losses, generated when that package was built.
{
    var big = new LossShape(1, 1, 33, 35);
    var bp = new float[big.Length];
    var bm = new float[big.Length];
    for (int i = 0; i < bp.Length; i++)
    {
        bp[i] = (float)((rng.NextDouble() * 4) - 2);
        bm[i] = (i / big.W) % 7 < 3 ? 1f : 0f;
    }

    float value = LossDsl.Losses.StructureLoss.Cpu.Compute(bp, bm, Span<float>.Empty, big);
    double reference = LossDsl.Losses.StructureLoss.Reference.Compute(new Logits(big, Array.ConvertAll(bp, v => (double)v)), new Target(big, Array.ConvertAll(bm, v => (double)v)));
    Check("losses-structure-cpu", value, reference, 1e-5);
}

Console.WriteLine(failures == 0 ? "consumer: all checks passed" : $"consumer: {failures} check(s) failed");
return failures == 0 ? 0 : 1;

/// <summary>The consumer's own loss: a boundary weight from a 5×5 average pool of the mask, weighted BCE and weighted IoU.</summary>
[Loss]
public static partial class ConsumerLoss
{
    static Field Weight(Target mask) => 1 + (4 * Abs(AvgPool(mask, 5) - mask));

    [Term]
    static Plane Bce(Logits pred, Target mask) => WeightedMean(BceWithLogits(pred, mask), Weight(mask));

    [Term(Weight = 0.5)]
    static Plane IoU(Logits pred, Target mask)
    {
        var w = Weight(mask);
        var p = Sigmoid(pred);
        var inter = Sum(w * p * mask);
        var union = Sum(w * (p + mask));
        return 1 - ((inter + 1) / (union - inter + 1));
    }
}
