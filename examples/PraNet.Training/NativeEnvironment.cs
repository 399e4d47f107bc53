using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace PraNet.Training;

/// <summary>Process settings that libtorch reads from the native environment when it loads.</summary>
internal static partial class NativeEnvironment
{
    /// <summary>
    /// Runs when this assembly is first used — before TorchSharp loads libtorch — in the demo and in the tests that
    /// call the trainer in-process alike.
    /// </summary>
    [ModuleInitializer]
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Usage", "CA2255", Justification = "libtorch reads these variables once, when it loads; nothing else in this assembly may run first.")]
    internal static void Configure()
    {
        PreferPassiveOpenMpThreads();
        UseSafeConvolutionKernels();
    }

    /// <summary>
    /// Asks libtorch's OpenMP threads to sleep between operations instead of spinning (unless the user chose otherwise).
    /// On a small machine spinning threads compete with the fused loss kernel's threads; measured in examples/Benchmarks.
    /// Must run before the first TorchSharp call; LossDsl.TorchSharp.NativeEnvironment does it (it never overrides a user value).
    /// </summary>
    public static void PreferPassiveOpenMpThreads() => global::LossDsl.TorchSharp.NativeEnvironment.PreferPassiveOpenMp();

    /// <summary>
    /// Limits oneDNN (libtorch's convolution library) to SSE4.1 kernels unless the user chose an ISA. On this project's
    /// machines (AMD EPYC, libtorch 2.10 CPU in TorchSharp-cpu 0.107) the AVX2/AVX-512 float32 convolution backward
    /// sporadically produced NaN within a few steps, with the generated loss and with the eager one alike; with SSE4.1
    /// kernels every run was finite. Costs some convolution speed; set <c>DNNL_MAX_CPU_ISA</c> yourself to override.
    /// </summary>
    public static void UseSafeConvolutionKernels()
    {
        if (OperatingSystem.IsLinux() && Environment.GetEnvironmentVariable("DNNL_MAX_CPU_ISA") is null)
        {
            _ = SetEnv("DNNL_MAX_CPU_ISA", "SSE41", 0);
        }
    }

    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SetEnv(string name, string value, int overwrite);
}
