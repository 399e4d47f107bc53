using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Reflection;

namespace LossDsl.Benchmarks;

/// <summary>Runs this benchmark program again as a child process (for measurements that need a fresh process).</summary>
public static class ChildProcess
{
    /// <summary>Runs the program with <paramref name="args"/> (and extra environment variables); returns its stdout, or null after a 3-minute timeout.</summary>
    public static string? Run(IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null)
    {
        string host = Environment.ProcessPath ?? throw new InvalidOperationException("No process path.");
        var start = new ProcessStartInfo(host)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };

        // Under `dotnet Benchmarks.dll` the process is the host: pass the assembly first.
        if (Path.GetFileNameWithoutExtension(host) == "dotnet")
        {
            start.ArgumentList.Add(Assembly.GetEntryAssembly()!.Location);
        }

        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        using var child = Process.Start(start)!;
        child.ErrorDataReceived += (_, _) => { };
        child.BeginErrorReadLine();
        string output = child.StandardOutput.ReadToEnd();
        if (!child.WaitForExit(TimeSpan.FromMinutes(3)))
        {
            child.Kill();
            return null;
        }

        return output;
    }
}
