using System;
using System.Runtime.ExceptionServices;
using System.Threading;

namespace LossDsl.Generators.Tests;

/// <summary>
/// Runs work on a thread with a small stack, so that a recursion the generator's input can drive deep is caught here
/// (as a stack overflow of the test process) rather than in a user's build.
/// </summary>
internal static class SmallStack
{
    /// <summary>The stack of the generator's threads in the robustness tests: a quarter of the usual 1 MiB.</summary>
    public const int Bytes = 256 * 1024;

    public static T Run<T>(Func<T> work, int stackBytes = Bytes)
    {
        T result = default!;
        ExceptionDispatchInfo? error = null;
        var thread = new Thread(
            () =>
            {
                try
                {
                    result = work();
                }
                catch (Exception e)
                {
                    error = ExceptionDispatchInfo.Capture(e);
                }
            },
            stackBytes);
        thread.Start();
        thread.Join();
        error?.Throw();
        return result;
    }
}
