using System;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;

namespace LossDsl.Ilgpu;

/// <summary>
/// The runtime the generated <c>L.Ilgpu</c> classes build on: context and accelerator creation, zero-copy wrapping of host
/// memory for the CPU accelerator, launch geometry from the device's limits, scratch-buffer growth and argument checks.
/// </summary>
public static class IlgpuBridge
{
    /// <summary>The most threads per group the generated reduction kernels use (fewer where the device allows fewer).</summary>
    public const int PreferredGroupSize = 256;

    /// <summary>Creates a context with every accelerator kind this runtime uses (CUDA and CPU) and ILGPU.Algorithms enabled, which the generated kernels need (math intrinsics and group reductions for PTX).</summary>
    /// <returns>A new context; dispose it after its accelerators.</returns>
    public static Context CreateContext() => Context.Create(b => b.Cuda().CPU().EnableAlgorithms());

    /// <summary>Whether <paramref name="context"/> sees at least one CUDA device.</summary>
    /// <param name="context">The context.</param>
    /// <returns><see langword="true"/> when a CUDA device is present.</returns>
    public static bool HasCuda(Context context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.GetCudaDevices().Count > 0;
    }

    /// <summary>Creates the first CUDA accelerator if there is one and <paramref name="preferCuda"/> is set, else a CPU accelerator in <see cref="CPUAcceleratorMode.Parallel"/> mode.</summary>
    /// <param name="context">A context from <see cref="CreateContext"/>.</param>
    /// <param name="preferCuda">Whether to use a CUDA device when present.</param>
    /// <returns>A new accelerator; dispose it before the context.</returns>
    public static Accelerator CreateAccelerator(Context context, bool preferCuda = true)
    {
        ArgumentNullException.ThrowIfNull(context);
        return preferCuda && HasCuda(context)
            ? context.CreateCudaAccelerator(0)
            : context.CreateCPUAccelerator(0, CPUAcceleratorMode.Parallel);
    }

    /// <summary>
    /// Wraps host memory as a buffer of the CPU accelerator without copying (for example a TorchSharp CPU tensor's data).
    /// The buffer never frees the memory; keep the memory alive and pinned while the buffer is used.
    /// </summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="accelerator">A CPU accelerator.</param>
    /// <param name="pointer">The address of the first element.</param>
    /// <param name="length">The number of elements.</param>
    /// <returns>A buffer whose <c>AsArrayView&lt;T&gt;(0, length)</c> reads and writes the host memory.</returns>
    /// <exception cref="ArgumentException">The accelerator is not a CPU accelerator, the pointer is null or the length negative.</exception>
    public static MemoryBuffer WrapHost<T>(Accelerator accelerator, IntPtr pointer, long length)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        if (accelerator.AcceleratorType != AcceleratorType.CPU)
        {
            throw new ArgumentException($"Host memory can be wrapped only for the CPU accelerator; got {accelerator.AcceleratorType}. Copy the data to the device instead.", nameof(accelerator));
        }

        if (pointer == IntPtr.Zero)
        {
            throw new ArgumentException("The pointer is null.", nameof(pointer));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(length);
        return CPUMemoryBuffer.Create(accelerator, pointer, length, Interop.SizeOf<T>());
    }

    /// <summary>Wraps host memory as a view of the CPU accelerator without copying; see <see cref="WrapHost{T}(Accelerator, IntPtr, long)"/>.</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="accelerator">A CPU accelerator.</param>
    /// <param name="pointer">The address of the first element.</param>
    /// <param name="length">The number of elements.</param>
    /// <param name="buffer">The wrapping buffer: dispose it when done (the memory itself is not freed).</param>
    /// <returns>The view over the host memory.</returns>
    public static ArrayView<T> WrapHostView<T>(Accelerator accelerator, IntPtr pointer, long length, out MemoryBuffer buffer)
        where T : unmanaged
    {
        buffer = WrapHost<T>(accelerator, pointer, length);
        return buffer.AsArrayView<T>(0, length);
    }

    /// <summary>The group size of the generated reduction kernels: at most <see cref="PreferredGroupSize"/>, a multiple of the warp size, within the device's limit.</summary>
    /// <param name="accelerator">The accelerator.</param>
    /// <returns>Threads per group.</returns>
    public static int GroupSize(Accelerator accelerator)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        int warp = Math.Max(1, accelerator.WarpSize);
        int size = Math.Min(PreferredGroupSize, accelerator.MaxNumThreadsPerGroup);
        return Math.Max(warp, size / warp * warp);
    }

    /// <summary>Groups per plane of the forward sweep: enough groups in total to fill the device about twice, never more than the plane needs.</summary>
    /// <param name="accelerator">The accelerator.</param>
    /// <param name="planes">Number of planes.</param>
    /// <param name="planeSize">Pixels per plane.</param>
    /// <param name="groupSize">Threads per group.</param>
    /// <returns>Groups per plane, at least 1.</returns>
    public static int GroupsPerPlane(Accelerator accelerator, int planes, int planeSize, int groupSize)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        long resident = Math.Max(1L, (long)accelerator.MaxNumThreads / groupSize) * 2;
        long wanted = (resident + planes - 1) / planes;
        long needed = ((long)planeSize + groupSize - 1) / groupSize;
        return (int)Math.Clamp(Math.Min(wanted, needed), 1, int.MaxValue);
    }

    /// <summary>Makes <paramref name="buffer"/> hold at least <paramref name="length"/> elements, replacing (and disposing) a smaller one.</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="accelerator">The accelerator that owns the buffer.</param>
    /// <param name="buffer">The buffer, or <see langword="null"/> before the first call.</param>
    /// <param name="length">The number of elements needed (at least 1 is allocated).</param>
    /// <returns>A view of exactly <paramref name="length"/> elements.</returns>
    public static ArrayView<T> Ensure<T>(Accelerator accelerator, ref MemoryBuffer1D<T, Stride1D.Dense>? buffer, long length)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        if (buffer is null || buffer.Length < Math.Max(1, length))
        {
            buffer?.Dispose();
            buffer = accelerator.Allocate1D<T>(Math.Max(1, length));
        }

        return buffer.View.SubView(0, length);
    }

    /// <summary>Checks that a view the caller passed belongs to <paramref name="accelerator"/> and holds <paramref name="expected"/> elements.</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="accelerator">The runner's accelerator.</param>
    /// <param name="view">The view.</param>
    /// <param name="expected">The number of elements the shape asks for.</param>
    /// <param name="paramName">The parameter name to report.</param>
    /// <param name="allowEmpty">Whether an empty view (meaning "skip") is accepted.</param>
    /// <returns>Whether the view is non-empty.</returns>
    /// <exception cref="ArgumentException">The length differs from <paramref name="expected"/> (and the view is not an allowed empty one), or the view lives on another accelerator.</exception>
    public static bool CheckView<T>(Accelerator accelerator, ArrayView<T> view, long expected, string paramName, bool allowEmpty = false)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        if (view.Length == 0 && allowEmpty)
        {
            return false;
        }

        if (view.Length != expected)
        {
            throw new ArgumentException($"Expected {expected} elements{(allowEmpty ? " (or an empty view)" : string.Empty)}; got {view.Length}.", paramName);
        }

        if (!view.IsValid || !ReferenceEquals(view.GetAccelerator(), accelerator))
        {
            throw new ArgumentException($"The view belongs to another accelerator ({(view.IsValid ? view.GetAccelerator().ToString() : "none")}); expected one of {accelerator}.", paramName);
        }

        return true;
    }

    /// <summary>Throws <see cref="ObjectDisposedException"/> when <paramref name="disposed"/> is set.</summary>
    /// <param name="disposed">Whether the runner was disposed.</param>
    /// <param name="runner">The runner (for its type name).</param>
    public static void ThrowIfDisposed(bool disposed, object runner)
    {
        ArgumentNullException.ThrowIfNull(runner);
        ObjectDisposedException.ThrowIf(disposed, runner);
    }

    /// <summary>The names of the CUDA devices the context sees (for reports).</summary>
    /// <param name="context">The context.</param>
    /// <returns>The names of the CUDA devices, possibly empty.</returns>
    public static string[] CudaDeviceNames(Context context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var devices = context.GetCudaDevices();
        var names = new string[devices.Count];
        for (int i = 0; i < names.Length; i++)
        {
            names[i] = devices[i].Name;
        }

        return names;
    }
}
