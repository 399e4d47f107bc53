using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Reflection;
using ILGPU;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using LossDsl.Losses;
using Xunit;
using Xunit.Abstractions;

namespace LossDsl.Ilgpu.Tests;

/// <summary>
/// Compiles every kernel of every generated ILGPU runner the test projects declare (the ready-made losses, the golden-case
/// losses, the other test projects' losses linked in, and <see cref="EveryOpForPtx"/>) to PTX with ILGPU's
/// <see cref="PTXBackend"/>, which needs neither a GPU nor a CUDA driver. The context is the runtime's own
/// (<see cref="IlgpuBridge.CreateContext"/>: ILGPU.Algorithms enabled), so device math, double atomics, group reductions
/// and shared memory go through the same lowering as on a CUDA accelerator. Set <c>LOSSDSL_PTX_DIR</c> to keep the PTX.
/// </summary>
public sealed class PtxCompilationTests(ITestOutputHelper output)
{
    /// <summary>Ampere (A100) and Hopper (H100/H200).</summary>
    public static TheoryData<string> Architectures() => new() { "sm_80", "sm_90" };

    /// <summary>Every type of the given assemblies with a generated <c>Ilgpu</c> runner, and that runner's kernel list.</summary>
    internal static IReadOnlyList<(Type Loss, IReadOnlyList<(MethodInfo Method, bool ExplicitlyGrouped)> Kernels)> Runners()
    {
        var found = new List<(Type, IReadOnlyList<(MethodInfo, bool)>)>();
        foreach (var assembly in new[] { typeof(StructureLoss).Assembly, typeof(PtxCompilationTests).Assembly })
        {
            foreach (var type in assembly.GetTypes().OrderBy(t => t.FullName, StringComparer.Ordinal))
            {
                var runner = type.GetNestedType("Ilgpu", BindingFlags.Public);
                var property = runner?.GetProperty("KernelMethods", BindingFlags.Public | BindingFlags.Static);
                if (property?.GetValue(null) is IReadOnlyList<(MethodInfo, bool)> kernels)
                {
                    found.Add((type, kernels));
                }
            }
        }

        return found;
    }

    [Fact]
    public void FindsTheRunnersOfEveryDeclaringProject()
    {
        var names = Runners().Select(r => r.Loss.FullName).ToHashSet(StringComparer.Ordinal);
        foreach (var expected in new[]
        {
            "LossDsl.Losses.StructureLoss", "LossDsl.Losses.TverskyLoss", "LossDsl.Tests.WeightedK31", "LossDsl.Cpu.Tests.Kitchen",
            "LossDsl.TorchSharp.Tests.MixedOps", "LossDsl.Ilgpu.Tests.EveryOpForPtx",
        })
        {
            Assert.Contains(expected, names);
        }

        Assert.All(Runners(), r => Assert.NotEmpty(r.Kernels));
    }

    [Theory]
    [MemberData(nameof(Architectures))]
    public void EveryGeneratedKernelCompilesToPtx(string architecture)
    {
        var arch = architecture == "sm_80" ? CudaArchitecture.SM_80 : CudaArchitecture.SM_90;
        // The instruction set a CUDA 13 driver gets from ILGPU for this architecture (the newest ILGPU knows).
        var isa = CudaAccelerator.GetInstructionSet(arch, CudaDriverVersion.FromMajorMinor(13, 0));
        using var context = IlgpuBridge.CreateContext();
        using var backend = new PTXBackend(context, new CudaCapabilityContext(arch), arch, isa, nvvmAPI: null);
        string? keep = Environment.GetEnvironmentVariable("LOSSDSL_PTX_DIR");
        // The .target line ILGPU writes: the newest PTX target it knows at or below the architecture (sm_90 may get sm_8x
        // code, which the driver JIT-compiles for the device).
        string target = ".target " + backend.Capabilities.TargetArchitecture.ToString().ToLowerInvariant();

        var compiled = new Dictionary<MethodInfo, long>();
        var failures = new List<string>();
        int entries = 0;
        foreach (var (loss, kernels) in Runners())
        {
            foreach (var (method, grouped) in kernels)
            {
                entries++;
                if (compiled.ContainsKey(method))
                {
                    continue; // a shared stencil kernel: compiled once
                }

                string name = $"{method.DeclaringType!.FullName}.{method.Name}";
                try
                {
                    var entry = grouped
                        ? EntryPointDescription.FromExplicitlyGroupedKernel(method)
                        : EntryPointDescription.FromImplicitlyGroupedKernel(method);
                    var kernel = (PTXCompiledKernel)backend.Compile(entry, KernelSpecialization.Empty);
                    string ptx = kernel.PTXAssembly;
                    Assert.Contains(target, ptx, StringComparison.Ordinal);
                    Assert.Contains(".entry", ptx, StringComparison.Ordinal);
                    compiled[method] = ptx.Length;
                    if (!string.IsNullOrEmpty(keep))
                    {
                        Directory.CreateDirectory(Path.Combine(keep, architecture));
                        File.WriteAllText(Path.Combine(keep, architecture, name.Replace('+', '.') + ".ptx"), ptx);
                    }
                }
                catch (Exception e)
                {
                    failures.Add($"{name} (of {loss.FullName}): {e.GetType().Name}: {e.Message}");
                }
            }
        }

        long total = compiled.Values.Sum();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{architecture} (PTX ISA {isa}, {target}): {Runners().Count} runners, {entries} kernel entries, {compiled.Count} distinct kernels compiled, {total} characters of PTX"));
        foreach (var (method, size) in compiled.OrderBy(k => k.Key.DeclaringType!.FullName + "." + k.Key.Name, StringComparer.Ordinal))
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {method.DeclaringType!.FullName}.{method.Name}: {size}"));
        }

        Assert.True(failures.Count == 0, "PTX compilation failed:\n" + string.Join("\n", failures));
        Assert.True(compiled.Count >= 40, $"only {compiled.Count} kernels found");
    }
}
