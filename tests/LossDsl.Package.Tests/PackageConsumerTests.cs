using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Text;
using Xunit;
using Xunit.Abstractions;

namespace LossDsl.Package.Tests;

/// <summary>
/// Installs LossDsl the way a user outside the repository does: packs the four packages into a temporary folder feed,
/// creates a fresh <c>dotnet new console</c> project in a temporary directory whose nuget.config adds that feed as its only
/// extra source, adds the packages, declares a loss, builds with warnings as errors and runs it (CPU, TorchSharp with the
/// native-library fix coming from the package, ILGPU's CPU accelerator, a ready-made loss), each checked against the
/// generated reference interpreter. A second project whose host drops the package's analyzers still gets the generator
/// from the package's build targets, or warning LOSSDSL001 when told not to add it.
/// </summary>
/// <remarks>
/// Within the CI budget: the packages are packed once from the outputs the solution build already made (no second
/// build), and restore reuses the machine's NuGet cache as a read-only fallback folder (TorchSharp's native packages are
/// not extracted again); only the LossDsl packages land in a temporary packages folder, deleted afterwards with the rest.
/// </remarks>
public sealed class PackageConsumerTests
{
    private static readonly string[] Packages = { "LossDsl", "LossDsl.TorchSharp", "LossDsl.Ilgpu", "LossDsl.Losses" };

    private readonly ITestOutputHelper _output;

    public PackageConsumerTests(ITestOutputHelper output) => _output = output;

    private static string Metadata(string key) =>
        typeof(PackageConsumerTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value
        ?? throw new InvalidOperationException(key);

    [Fact]
    public void PackedPackages_InAFreshConsoleProject_BuildWarningFree_AndEveryBackendMatchesTheReference()
    {
        string repo = Metadata("LossDsl.RepoRoot");
        string configuration = Metadata("LossDsl.Configuration");
        string version = Metadata("LossDsl.Version");
        string root = Path.Combine(Path.GetTempPath(), "lossdsl-package-" + Guid.NewGuid().ToString("N").Substring(0, 8));
        string feed = Path.Combine(root, "feed");
        string app = Path.Combine(root, "app");
        var total = Stopwatch.StartNew();
        var times = new List<string>();
        try
        {
            Directory.CreateDirectory(feed);

            // 1. Pack once, from the solution build's outputs.
            var sw = Stopwatch.StartNew();
            foreach (var package in Packages)
            {
                Run(repo, "pack", Path.Combine(repo, "src", package, package + ".csproj"), "-c", configuration, "--no-build", "-o", feed, "-v", "q", "-nologo");
            }

            times.Add($"pack {sw.Elapsed.TotalSeconds:F1} s");
            foreach (var package in Packages)
            {
                Assert.True(File.Exists(Path.Combine(feed, $"{package}.{version}.nupkg")), $"{package}.{version}.nupkg was not packed");
                Assert.True(File.Exists(Path.Combine(feed, $"{package}.{version}.snupkg")), $"{package}.{version}.snupkg was not packed");
            }

            // 2. A nuget.config above both projects: the feed as the only extra source (mapped to the LossDsl packages, so
            // nothing of that name comes from elsewhere), a fresh packages folder, the machine's cache as a fallback.
            File.WriteAllText(Path.Combine(root, "nuget.config"), NuGetConfig(feed, Path.Combine(root, "packages")));

            // 3. A fresh console project with the packages added as a user adds them.
            sw.Restart();
            Run(root, "new", "console", "-o", app, "--no-restore", "--framework", "net10.0");
            foreach (var package in Packages)
            {
                Run(app, "add", "package", package, "--version", version, "--no-restore");
            }

            var project = Path.Combine(app, "app.csproj");
            var csproj = File.ReadAllText(project);
            Assert.Contains("<PackageReference Include=\"LossDsl\" Version=\"" + version + "\"", csproj, StringComparison.Ordinal);
            // The one property the README asks for.
            File.WriteAllText(project, csproj.Replace("</PropertyGroup>", "  <AllowUnsafeBlocks>true</AllowUnsafeBlocks>\n  </PropertyGroup>", StringComparison.Ordinal));
            File.Copy(Path.Combine(AppContext.BaseDirectory, "Consumer", "Program.cs"), Path.Combine(app, "Program.cs"), overwrite: true);
            times.Add($"new + add {sw.Elapsed.TotalSeconds:F1} s");

            // 4. Build with warnings as errors; the TorchSharp package's buildTransitive target patches the native library.
            sw.Restart();
            var build = Run(app, "build", "-warnaserror", "-nodeReuse:false", "-nologo");
            times.Add($"restore + build {sw.Elapsed.TotalSeconds:F1} s");
            if (OperatingSystem.IsLinux())
            {
                Assert.Contains("LossDsl: marked GLIBCXX_3.4.32 weak", build, StringComparison.Ordinal);
            }

            string restored = Path.Combine(root, "packages", "lossdsl");
            Assert.True(Directory.Exists(restored), "LossDsl was not restored from the local feed into the fresh packages folder");

            // 5. Run it: every backend against the reference interpreter.
            sw.Restart();
            var run = Run(app, "run", "--no-build");
            times.Add($"run {sw.Elapsed.TotalSeconds:F1} s");
            foreach (var check in new[] { "cpu", "cpu gradient", "torchsharp", "torchsharp gradient", "ilgpu-cpu", "ilgpu-cpu gradient", "losses-structure-cpu" })
            {
                Assert.Contains("ok " + check + ":", run, StringComparison.Ordinal);
            }

            Assert.Contains("consumer: all checks passed", run, StringComparison.Ordinal);

            // 6. A host that delivers the package without its analyzers (simulated: the project drops them after NuGet's
            // resolution): the package's build targets add the generator back, so the loss still compiles; told not to,
            // they warn LOSSDSL001 instead of leaving CS0117 errors unexplained.
            sw.Restart();
            string bare = Path.Combine(root, "bare");
            Directory.CreateDirectory(bare);
            File.WriteAllText(Path.Combine(bare, "bare.csproj"), $"""
                <Project Sdk="Microsoft.NET.Sdk">
                  <PropertyGroup>
                    <TargetFramework>net10.0</TargetFramework>
                    <AllowUnsafeBlocks>true</AllowUnsafeBlocks>
                  </PropertyGroup>
                  <ItemGroup>
                    <PackageReference Include="LossDsl" Version="{version}" />
                  </ItemGroup>
                  <Target Name="DropLossDslAnalyzers" AfterTargets="ResolveLockFileAnalyzers">
                    <ItemGroup>
                      <Analyzer Remove="@(Analyzer)" Condition="'%(Analyzer.NuGetPackageId)' == 'LossDsl'" />
                    </ItemGroup>
                  </Target>
                </Project>
                """);
            File.WriteAllText(Path.Combine(bare, "Dice.cs"), """
                using LossDsl;
                using static LossDsl.Dsl;

                namespace Bare;

                [Loss]
                public static partial class Dice
                {
                    [Term] static Plane T(Logits pred, Target mask) => 1 - (((2 * Sum(Sigmoid(pred) * mask)) + 1) / (Sum(Sigmoid(pred) + mask) + 1));

                    public static double Check(LossShape shape, double[] p, double[] m) => Reference.Compute(new Logits(shape, p), new Target(shape, m));
                }
                """);
            Run(bare, "build", "-warnaserror", "-nodeReuse:false", "-nologo");
            var warned = Run(bare, "msbuild", "-t:LossDslEnsureGenerator", "-p:LossDslAddGenerator=false", "-nodeReuse:false", "-nologo");
            Assert.Contains("warning LOSSDSL001", warned, StringComparison.Ordinal);
            Assert.Contains("The LossDsl source generator is not loaded in 'bare'", warned, StringComparison.Ordinal);
            times.Add($"analyzer-less project {sw.Elapsed.TotalSeconds:F1} s");
        }
        finally
        {
            _output.WriteLine($"package consumer test: {total.Elapsed.TotalSeconds:F1} s ({string.Join(", ", times)})");
            try
            {
                Directory.Delete(root, recursive: true);
            }
            catch (IOException)
            {
                // A leftover temporary folder is not a test failure.
            }
        }
    }

    private static string NuGetConfig(string feed, string packages)
    {
        string home = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } p
            ? p
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        return $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <config>
                <add key="globalPackagesFolder" value="{packages}" />
              </config>
              <packageSources>
                <clear />
                <add key="nuget.org" value="https://api.nuget.org/v3/index.json" protocolVersion="3" />
                <add key="lossdsl-local" value="{feed}" />
              </packageSources>
              <packageSourceMapping>
                <packageSource key="lossdsl-local">
                  <package pattern="LossDsl" />
                  <package pattern="LossDsl.*" />
                </packageSource>
                <packageSource key="nuget.org">
                  <package pattern="*" />
                </packageSource>
              </packageSourceMapping>
              <fallbackPackageFolders>
                <clear />
                <add key="machine-cache" value="{home}" />
              </fallbackPackageFolders>
            </configuration>
            """;
    }

    /// <summary>Runs the dotnet CLI that runs this test, outside any MSBuild context of the test run; returns its output or fails with it.</summary>
    private string Run(string directory, params string[] args)
    {
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";
        var info = new ProcessStartInfo(dotnet)
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        // The test host may run inside `dotnet test`, whose MSBuild variables would steer the nested builds.
        foreach (var name in new[] { "MSBUILD_EXE_PATH", "MSBuildExtensionsPath", "MSBuildSDKsPath", "MSBuildLoadMicrosoftTargetsReadOnly", "NUGET_PACKAGES" })
        {
            info.Environment.Remove(name);
        }

        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_NOLOGO"] = "1";
        info.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        info.Environment["DOTNET_CLI_UI_LANGUAGE"] = "en";

        var output = new StringBuilder();
        using var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (output) { output.AppendLine(e.Data); } } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (output) { output.AppendLine(e.Data); } } };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(TimeSpan.FromMinutes(8)))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"dotnet {string.Join(' ', args)} timed out:\n{output}");
        }

        process.WaitForExit();
        string text;
        lock (output)
        {
            text = output.ToString();
        }

        _output.WriteLine($"$ dotnet {string.Join(' ', args)}  (exit {process.ExitCode})");
        if (process.ExitCode != 0)
        {
            Assert.Fail($"dotnet {string.Join(' ', args)} in {directory} exited {process.ExitCode}:\n{text}");
        }

        return text;
    }
}
