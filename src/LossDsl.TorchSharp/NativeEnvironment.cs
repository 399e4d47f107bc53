using System;
using System.IO;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace LossDsl.TorchSharp;

/// <summary>What <see cref="NativeEnvironment.PreferPassiveOpenMp"/> did.</summary>
public enum OpenMpPolicyOutcome
{
    /// <summary><c>OMP_WAIT_POLICY=PASSIVE</c> was set in the native environment before libtorch's OpenMP runtime loaded.</summary>
    Set,

    /// <summary>The process already had an <c>OMP_WAIT_POLICY</c> (the user's choice); it was left alone.</summary>
    UserValue,

    /// <summary>Opted out with <c>LOSSDSL_KEEP_OMP_POLICY</c> or the AppContext switch; nothing was changed.</summary>
    OptedOut,

    /// <summary>libtorch's OpenMP runtime was already loaded (it reads the variable once, when it loads); nothing was changed.</summary>
    TooLate,

    /// <summary>Not Linux (the bundled libgomp and the libc <c>setenv</c> are Linux-only here); nothing was changed.</summary>
    NotLinux,
}

/// <summary>
/// The native environment libtorch reads when it loads. libtorch's OpenMP worker threads spin after every parallel
/// operation by default; on a small CPU machine they then compete with the threads of the fused loss kernel (and with the
/// rest of the training step). <c>OMP_WAIT_POLICY=PASSIVE</c> makes them sleep instead. libgomp reads the variable from
/// the C environment once, when it is loaded, so it must be set before the first TorchSharp call, and through libc:
/// <see cref="Environment.SetEnvironmentVariable(string, string)"/> does not reach native <c>getenv</c> on Unix.
/// </summary>
/// <remarks>
/// <para>
/// When it runs: this assembly's module initializer calls <see cref="PreferPassiveOpenMp"/> when the assembly is first
/// used — in most programs that is after TorchSharp has loaded libtorch (the first tensor is created before the first
/// loss), hence too late. So the LossDsl.TorchSharp package also adds a one-line module initializer to each C# project
/// that references it (buildTransitive/LossDsl.TorchSharp.OpenMp.cs). An executable's module initializer runs before its
/// <c>Main</c>, so in the application's own assembly it precedes every torch call; in a library it runs when the library
/// is first used. Opt out of the added file with the MSBuild property <c>LossDslPassiveOpenMp=false</c>.
/// </para>
/// <para>
/// It never overrides a value the process already has (<c>setenv(…, overwrite: 0)</c>), and does nothing when the
/// environment variable <c>LOSSDSL_KEEP_OMP_POLICY</c> is set to anything but <c>0</c>/<c>false</c>, or when the AppContext switch
/// <c>LossDsl.TorchSharp.KeepOpenMpWaitPolicy</c> is on (runtimeconfig: <c>&lt;RuntimeHostConfigurationOption
/// Include="LossDsl.TorchSharp.KeepOpenMpWaitPolicy" Value="true" /&gt;</c>).
/// </para>
/// </remarks>
public static partial class NativeEnvironment
{
    /// <summary>The environment variable that opts out (any value but empty, <c>0</c> or <c>false</c>).</summary>
    public const string KeepPolicyVariable = "LOSSDSL_KEEP_OMP_POLICY";

    /// <summary>The AppContext switch that opts out.</summary>
    public const string KeepPolicySwitch = "LossDsl.TorchSharp.KeepOpenMpWaitPolicy";

    private const string Variable = "OMP_WAIT_POLICY";

    private static readonly object s_gate = new();
    private static OpenMpPolicyOutcome? s_outcome;

    /// <summary>The outcome of the first call of <see cref="PreferPassiveOpenMp"/> in this process, or null before it.</summary>
    public static OpenMpPolicyOutcome? Outcome => s_outcome;

    /// <summary>
    /// Sets <c>OMP_WAIT_POLICY=PASSIVE</c> in the native environment unless the process has a value, the user opted out,
    /// or libtorch's OpenMP runtime is already loaded. Idempotent: later calls return the first call's outcome.
    /// </summary>
    /// <returns>What was done.</returns>
    public static OpenMpPolicyOutcome PreferPassiveOpenMp()
    {
        lock (s_gate)
        {
            s_outcome ??= Decide();
            return s_outcome.Value;
        }
    }

    [ModuleInitializer]
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Usage", "CA2255", Justification = "libgomp reads OMP_WAIT_POLICY once, when libtorch loads it; this is the earliest point this library gets.")]
    internal static void Initialize() => PreferPassiveOpenMp();

    private static OpenMpPolicyOutcome Decide()
    {
        if (!OperatingSystem.IsLinux())
        {
            return OpenMpPolicyOutcome.NotLinux;
        }

        if (OptedOut())
        {
            return OpenMpPolicyOutcome.OptedOut;
        }

        // The C environment, not .NET's copy of it: another library may have called setenv already.
        if (GetEnv(Variable) != IntPtr.Zero)
        {
            return OpenMpPolicyOutcome.UserValue;
        }

        if (OpenMpLoaded())
        {
            return OpenMpPolicyOutcome.TooLate;
        }

        return SetEnv(Variable, "PASSIVE", 0) == 0 ? OpenMpPolicyOutcome.Set : OpenMpPolicyOutcome.TooLate;
    }

    private static bool OptedOut()
    {
        if (AppContext.TryGetSwitch(KeepPolicySwitch, out bool keep) && keep)
        {
            return true;
        }

        string? v = Environment.GetEnvironmentVariable(KeepPolicyVariable);
        return !string.IsNullOrEmpty(v) && v != "0" && !v.Equals("false", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Whether an OpenMP runtime (libgomp, as bundled with libtorch, or libiomp/libomp) is mapped into the process.</summary>
    private static bool OpenMpLoaded()
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/self/maps"))
            {
                if (line.Contains("/libgomp", StringComparison.Ordinal) || line.Contains("/libiomp", StringComparison.Ordinal) ||
                    line.Contains("/libomp", StringComparison.Ordinal) || line.Contains("/libtorch_cpu", StringComparison.Ordinal))
                {
                    return true;
                }
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }

        return false;
    }

    [LibraryImport("libc", EntryPoint = "getenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial IntPtr GetEnv(string name);

    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SetEnv(string name, string value, int overwrite);
}
