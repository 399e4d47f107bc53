using System;
using System.Runtime.InteropServices;
using LossDsl.TorchSharp;
using Xunit;

namespace LossDsl.TorchSharp.Tests;

/// <summary>
/// The module initializer that the LossDsl.TorchSharp targets add to this test assembly ran before any torch call and
/// set OMP_WAIT_POLICY in the native environment (or left the user's value / honoured the opt-out).
/// </summary>
public partial class OpenMpPolicyTests
{
    [Fact]
    public void TheAddedModuleInitializerRanBeforeLibtorchLoaded()
    {
        var outcome = NativeEnvironment.Outcome;
        Assert.NotNull(outcome);
        Assert.NotEqual(OpenMpPolicyOutcome.TooLate, outcome);
        if (!OperatingSystem.IsLinux())
        {
            Assert.Equal(OpenMpPolicyOutcome.NotLinux, outcome);
            return;
        }

        string? keep = Environment.GetEnvironmentVariable(NativeEnvironment.KeepPolicyVariable);
        string? user = Environment.GetEnvironmentVariable("OMP_WAIT_POLICY");
        var expected = !string.IsNullOrEmpty(keep) && keep != "0" && !keep.Equals("false", StringComparison.OrdinalIgnoreCase)
            ? OpenMpPolicyOutcome.OptedOut
            : string.IsNullOrEmpty(user) ? OpenMpPolicyOutcome.Set : OpenMpPolicyOutcome.UserValue;
        Assert.Equal(expected, outcome);
        string? native = Marshal.PtrToStringUTF8(GetEnv("OMP_WAIT_POLICY"));
        Assert.Equal(expected == OpenMpPolicyOutcome.Set ? "PASSIVE" : user, native);
    }

    [Fact]
    public void LaterCallsReturnTheFirstOutcome()
    {
        using var t = global::TorchSharp.torch.zeros(1);
        Assert.Equal(NativeEnvironment.Outcome, NativeEnvironment.PreferPassiveOpenMp());
    }

    [LibraryImport("libc", EntryPoint = "getenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial IntPtr GetEnv(string name);
}
