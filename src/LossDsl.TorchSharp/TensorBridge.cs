using System;
using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace LossDsl.TorchSharp;

/// <summary>
/// Helpers that the code generated for the TorchSharp backend calls: input validation, layout
/// normalisation and zero-copy access to the memory of CPU tensors.
/// </summary>
/// <remarks>
/// The LossDsl generator recognises the TorchSharp backend by the presence of this type
/// (<c>LossDsl.TorchSharp.TensorBridge</c>); keep its name.
/// </remarks>
public static class TensorBridge
{
    /// <summary>
    /// Checks that <paramref name="pred"/> and <paramref name="target"/> form a valid input pair for a
    /// generated loss and returns their shape.
    /// </summary>
    /// <param name="pred">The network output (logits). May require grad.</param>
    /// <param name="target">The target (mask). Must not require grad.</param>
    /// <param name="predName">The name of the <paramref name="pred"/> parameter, reported in exceptions.</param>
    /// <param name="targetName">The name of the <paramref name="target"/> parameter, reported in exceptions.</param>
    /// <returns>The common N×C×H×W shape.</returns>
    /// <remarks>
    /// Both tensors must: be rank 4 (NCHW), have the same shape with every dimension positive and at most
    /// <see cref="int.MaxValue"/> elements in all, live on the same device, and have the same dtype,
    /// <c>float32</c> or <c>float64</c>. <c>float16</c> and <c>bfloat16</c> are rejected (the generated
    /// kernels have no half-precision path, and a silent up-cast would hide a copy); convert with
    /// <c>.to(torch.float32)</c> first (under autocast, compute the loss outside the autocast region).
    /// The layout is not checked here: pass the tensors through <see cref="Contiguous"/>.
    /// </remarks>
    /// <exception cref="ArgumentNullException">A tensor is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">
    /// A check fails; <see cref="ArgumentException.ParamName"/> names the offending argument
    /// (<paramref name="targetName"/> when the two disagree on shape, device or dtype, as the target is what
    /// the caller usually has to adapt).
    /// </exception>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is zero or the element count does not fit in an <see cref="int"/>.</exception>
    public static LossShape ValidatePair(Tensor pred, Tensor target, string predName, string targetName) =>
        ValidatePairCore(pred, target, predName, targetName, targetIsTarget: true);

    /// <summary>
    /// Checks the inputs of a generated loss with any number of inputs against the first one (as
    /// <see cref="ValidatePair"/> does for each pair) and returns their common shape.
    /// </summary>
    /// <param name="inputs">The input tensors, in declaration order.</param>
    /// <param name="names">The parameter name of each input, reported in exceptions.</param>
    /// <param name="isTarget">Whether each input is a target (not differentiated, must not require grad).</param>
    /// <returns>The common N×C×H×W shape.</returns>
    /// <exception cref="ArgumentNullException">An input is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">A check fails; <see cref="ArgumentException.ParamName"/> names the input.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is zero or the element count does not fit in an <see cref="int"/>.</exception>
    public static LossShape ValidateInputs(Tensor[] inputs, string[] names, bool[] isTarget)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(names);
        ArgumentNullException.ThrowIfNull(isTarget);
        if (inputs.Length == 0 || names.Length != inputs.Length || isTarget.Length != inputs.Length)
        {
            throw new ArgumentException("Expected at least one input and one name and role per input.", nameof(inputs));
        }

        if (isTarget[0] && inputs[0] is { } first && !first.IsInvalid && first.requires_grad)
        {
            throw new ArgumentException(
                $"{names[0]} requires grad, but the loss is not differentiated with respect to it. Pass {names[0]}.detach().",
                names[0]);
        }

        var shape = ValidatePairCore(inputs[0], inputs[0], names[0], names[0], targetIsTarget: false);
        for (int i = 1; i < inputs.Length; i++)
        {
            ValidatePairCore(inputs[0], inputs[i], names[0], names[i], isTarget[i]);
        }

        return shape;
    }

    private static LossShape ValidatePairCore(Tensor pred, Tensor target, string predName, string targetName, bool targetIsTarget)
    {
        ArgumentNullException.ThrowIfNull(pred, predName);
        ArgumentNullException.ThrowIfNull(target, targetName);
        CheckAlive(pred, predName);
        CheckAlive(target, targetName);

        CheckRank(pred, predName);
        CheckRank(target, targetName);
        CheckFloating(pred, predName);
        CheckFloating(target, targetName);

        if (pred.dtype != target.dtype)
        {
            throw new ArgumentException(
                $"{targetName} has dtype {Name(target.dtype)} but {predName} has dtype {Name(pred.dtype)}; " +
                $"both must have the same dtype. Convert with {targetName}.to({predName}.dtype).",
                targetName);
        }

        if (pred.device_type != target.device_type || pred.device_index != target.device_index)
        {
            throw new ArgumentException(
                $"{targetName} is on device {DeviceName(target)} but {predName} is on device {DeviceName(pred)}; " +
                $"both must be on the same device. Move it with {targetName}.to({predName}.device).",
                targetName);
        }

        long[] ps = pred.shape;
        long[] ts = target.shape;
        if (!ps.AsSpan().SequenceEqual(ts))
        {
            throw new ArgumentException(
                $"{targetName} has shape {ShapeName(ts)} but {predName} has shape {ShapeName(ps)}; " +
                $"both must have the same {(ps.Length == 5 ? "N×C×D×H×W" : "N×C×H×W")} shape (upsample or resize the prediction to the target's size first).",
                targetName);
        }

        if (targetIsTarget && target.requires_grad)
        {
            throw new ArgumentException(
                $"{targetName} requires grad, but the loss is not differentiated with respect to the target. " +
                $"Pass {targetName}.detach().",
                targetName);
        }

        for (int i = 0; i < ps.Length; i++)
        {
            if (ps[i] <= 0 || ps[i] > int.MaxValue)
            {
                throw new ArgumentOutOfRangeException(predName, ShapeName(ps),
                    $"Every dimension of {predName} must be positive and fit in an int; got shape {ShapeName(ps)}.");
            }
        }

        var shape = ShapeOf(pred);
        shape.Validate(predName);
        return shape;
    }

    /// <summary>
    /// The <see cref="LossShape"/> of an N×C×H×W or N×C×D×H×W tensor (unchecked: call after the entry point's validation).
    /// </summary>
    /// <param name="t">A rank-4 or rank-5 tensor.</param>
    /// <returns>Its shape; D is 1 for rank 4.</returns>
    public static LossShape ShapeOf(Tensor t)
    {
        ArgumentNullException.ThrowIfNull(t);
        long[] s = t.shape;
        return s.Length == 5
            ? new LossShape((int)s[0], (int)s[1], (int)s[2], (int)s[3], (int)s[4])
            : new LossShape((int)s[0], (int)s[1], (int)s[2], (int)s[3]);
    }

    /// <summary>
    /// Returns <paramref name="t"/> itself when its memory is already dense NCHW (row-major, contiguous in
    /// PyTorch's default memory format), otherwise a contiguous copy (<c>t.contiguous()</c>).
    /// </summary>
    /// <param name="t">The tensor.</param>
    /// <returns><paramref name="t"/> or a new contiguous tensor with the same values.</returns>
    /// <remarks>
    /// <para>
    /// A channels-last tensor (<c>memory_format.channels_last</c>) is not contiguous in the default format
    /// (unless C = 1 or H·W = 1, where the two layouts coincide), so it is copied to NCHW: every LossDsl
    /// kernel reads contiguous NCHW. The same holds for views with a storage offset or strides (slices,
    /// transposes, expanded tensors).
    /// </para>
    /// <para>
    /// Ownership: when the result is the same object as <paramref name="t"/>, do not dispose it (the caller
    /// owns <paramref name="t"/>); when it is a new tensor, the caller owns it (it is registered on the
    /// current dispose scope like any other new tensor). Check with
    /// <see cref="object.ReferenceEquals(object, object)"/>. The copy is differentiable, as
    /// <c>contiguous()</c> is.
    /// </para>
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="t"/> is <see langword="null"/>.</exception>
    public static Tensor Contiguous(Tensor t)
    {
        ArgumentNullException.ThrowIfNull(t);
        return t.is_contiguous() ? t : t.contiguous();
    }

    /// <summary>
    /// A writable span over the elements of a contiguous CPU tensor, without copying.
    /// </summary>
    /// <typeparam name="T">
    /// The element type; must match the dtype: <see cref="float"/> for <c>float32</c>, <see cref="double"/> for
    /// <c>float64</c>, <see cref="Half"/> for <c>float16</c>, <see cref="byte"/>, <see cref="sbyte"/>,
    /// <see cref="short"/>, <see cref="int"/>, <see cref="long"/>, <see cref="bool"/> for the integer and bool types.
    /// </typeparam>
    /// <param name="t">A contiguous tensor on the CPU with at most <see cref="int.MaxValue"/> bytes.</param>
    /// <returns>The tensor's elements in memory order (NCHW for a contiguous NCHW tensor), from its storage offset on.</returns>
    /// <remarks>
    /// The span aliases the tensor's native memory: it is valid only while <paramref name="t"/> is alive and
    /// not disposed, and the garbage collector does not know about that dependency. Keep the tensor referenced
    /// (for example with <see cref="GC.KeepAlive(object)"/> after the last use of the span) and do not resize
    /// it in between. Writing through the span bypasses autograd and the version counter.
    /// Built on TorchSharp's <c>Tensor.bytes</c> (native <c>data_ptr()</c>, which includes the storage offset).
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="t"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">
    /// <paramref name="t"/> is disposed, not on the CPU, not contiguous, larger than 2 GB, or of a dtype that is not <typeparamref name="T"/>.
    /// </exception>
    public static Span<T> AsSpan<T>(Tensor t) where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(t);
        CheckAlive(t, nameof(t));
        ScalarType expected = ScalarTypeOf<T>();
        if (t.dtype != expected)
        {
            throw new ArgumentException(
                $"The tensor has dtype {Name(t.dtype)}; a span of {typeof(T).Name} needs dtype {Name(expected)}.", nameof(t));
        }

        if (t.device_type != DeviceType.CPU)
        {
            throw new ArgumentException(
                $"The tensor is on device {DeviceName(t)}; spans are only available for CPU tensors. Copy it with .cpu() first.", nameof(t));
        }

        if (!t.is_contiguous())
        {
            throw new ArgumentException(
                "The tensor is not contiguous; spans need contiguous memory. Use TensorBridge.Contiguous(t) first.", nameof(t));
        }

        long bytes = checked(t.NumberOfElements * t.ElementSize);
        if (bytes > int.MaxValue)
        {
            throw new ArgumentException($"The tensor holds {bytes} bytes; a span holds at most {int.MaxValue}.", nameof(t));
        }

        if (bytes == 0)
        {
            return Span<T>.Empty;
        }

        return MemoryMarshal.Cast<byte, T>(t.bytes);
    }

    /// <summary>
    /// A read-only span over the elements of a contiguous CPU tensor, without copying.
    /// </summary>
    /// <typeparam name="T">The element type; must match the dtype (see <see cref="AsSpan{T}(Tensor)"/>).</typeparam>
    /// <param name="t">A contiguous tensor on the CPU with at most <see cref="int.MaxValue"/> bytes.</param>
    /// <returns>The tensor's elements in memory order.</returns>
    /// <remarks>The same lifetime rules as <see cref="AsSpan{T}(Tensor)"/> apply.</remarks>
    /// <exception cref="ArgumentNullException"><paramref name="t"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">As for <see cref="AsSpan{T}(Tensor)"/>.</exception>
    public static ReadOnlySpan<T> AsReadOnlySpan<T>(Tensor t) where T : unmanaged => AsSpan<T>(t);

    /// <summary>
    /// The gradient of a generated loss's input scaled by the upstream gradient <paramref name="gradOutput"/>:
    /// <paramref name="gradient"/> itself when <paramref name="gradOutput"/> is a CPU tensor holding the single value 1 (what
    /// <c>loss.backward()</c> passes, also through sums such as deep supervision), else <c>gradient * gradOutput</c>.
    /// </summary>
    /// <param name="gradient">The gradient saved by the forward pass.</param>
    /// <param name="gradOutput">The upstream gradient.</param>
    /// <returns><paramref name="gradient"/> or a new tensor.</returns>
    /// <remarks>
    /// Skipping the multiplication saves a full-size allocation and a pass over memory, and, on the CPU, a libtorch parallel
    /// region whose OpenMP threads would then spin against the next fused kernel. Returning the saved tensor is safe: autograd
    /// accumulates it into <c>.grad</c> by copying (or adding) whenever anything else still references it, as the saved
    /// variable does under <c>retain_graph</c>. The value is read only from CPU tensors (reading it from a device would
    /// synchronise).
    /// </remarks>
    /// <exception cref="ArgumentNullException">A tensor is <see langword="null"/>.</exception>
    public static Tensor ScaleByUpstream(Tensor gradient, Tensor gradOutput)
    {
        ArgumentNullException.ThrowIfNull(gradient);
        ArgumentNullException.ThrowIfNull(gradOutput);
        bool one = gradOutput.device_type == DeviceType.CPU && gradOutput.NumberOfElements == 1 && gradOutput.ToDouble() == 1.0;
        return one ? gradient : gradient * gradOutput;
    }

    /// <summary>
    /// The number of TorchSharp <see cref="Tensor"/> objects in the whole process that have been created and
    /// not yet disposed or finalized (TorchSharp's <c>torch.Tensor.TotalCount</c>).
    /// </summary>
    /// <returns>The live managed tensor count.</returns>
    /// <remarks>
    /// Counts managed wrappers only (two wrappers may share native storage; tensors that stay inside native
    /// code are not counted). Process-wide, so it moves with every other thread's work: in tests that run in
    /// parallel prefer <see cref="ThreadLiveTensorCount"/>.
    /// </remarks>
    public static long LiveTensorCount() => Tensor.TotalCount;

    /// <summary>
    /// The number of tensors created on the current thread minus those disposed on it, as TorchSharp's dispose-scope
    /// statistics record it (<c>DisposeScopeManager.Statistics.TensorStatistics.ThreadTotalLiveCount</c>).
    /// </summary>
    /// <returns>The current thread's live tensor count.</returns>
    /// <remarks>
    /// Suited to leak tests: read it before and after a call (on the same thread, with no finalizer pass
    /// in between, as finalizers run elsewhere) and compare. Tensors disposed on another thread are not
    /// subtracted.
    /// </remarks>
    public static long ThreadLiveTensorCount() => DisposeScopeManager.Statistics.TensorStatistics.ThreadTotalLiveCount;

    private static void CheckAlive(Tensor t, string name)
    {
        if (t.IsInvalid)
        {
            throw new ArgumentException($"{name} has been disposed.", name);
        }
    }

    private static void CheckRank(Tensor t, string name)
    {
        long rank = t.Dimensions;
        if (rank != 4 && rank != 5)
        {
            throw new ArgumentException(
                $"{name} must be an N×C×H×W (rank 4) or N×C×D×H×W (rank 5) tensor; got rank {rank} with shape {ShapeName(t.shape)}. " +
                (rank == 3 ? $"For a single channel add it with {name}.unsqueeze(1)." : string.Empty),
                name);
        }
    }

    private static void CheckFloating(Tensor t, string name)
    {
        ScalarType dtype = t.dtype;
        if (dtype == ScalarType.Float32 || dtype == ScalarType.Float64)
        {
            return;
        }

        string hint = dtype is ScalarType.Float16 or ScalarType.BFloat16
            ? $"Half precision is not supported; convert with {name}.to(torch.float32)."
            : $"Convert with {name}.to(torch.float32).";
        throw new ArgumentException(
            $"{name} has dtype {Name(dtype)}; LossDsl losses take float32 or float64 tensors. {hint}", name);
    }

    private static ScalarType ScalarTypeOf<T>() where T : unmanaged
    {
        if (typeof(T) == typeof(float)) return ScalarType.Float32;
        if (typeof(T) == typeof(double)) return ScalarType.Float64;
        if (typeof(T) == typeof(Half)) return ScalarType.Float16;
        if (typeof(T) == typeof(byte)) return ScalarType.Byte;
        if (typeof(T) == typeof(sbyte)) return ScalarType.Int8;
        if (typeof(T) == typeof(short)) return ScalarType.Int16;
        if (typeof(T) == typeof(int)) return ScalarType.Int32;
        if (typeof(T) == typeof(long)) return ScalarType.Int64;
        if (typeof(T) == typeof(bool)) return ScalarType.Bool;
        throw new ArgumentException($"{typeof(T).Name} does not correspond to a TorchSharp dtype.", nameof(T));
    }

    private static string Name(ScalarType dtype) => dtype switch
    {
        ScalarType.Float16 => "float16",
        ScalarType.BFloat16 => "bfloat16",
        ScalarType.Float32 => "float32",
        ScalarType.Float64 => "float64",
        ScalarType.Byte => "uint8",
        ScalarType.Int8 => "int8",
        ScalarType.Int16 => "int16",
        ScalarType.Int32 => "int32",
        ScalarType.Int64 => "int64",
        ScalarType.Bool => "bool",
        _ => dtype.ToString(),
    };

    private static string DeviceName(Tensor t) =>
        t.device_index < 0 ? t.device_type.ToString().ToLowerInvariant() : $"{t.device_type.ToString().ToLowerInvariant()}:{t.device_index}";

    private static string ShapeName(long[] shape) => "[" + string.Join(", ", shape) + "]";
}
