using System.Linq;
using Xunit;

namespace LossDsl.Generators.Tests;

/// <summary>
/// Whole-file snapshots of the TorchSharp and ILGPU backends, generated over a compilation that references their runtimes
/// (<see cref="GeneratorHarness.RunWithBackends"/>); the generated code must compile there without warnings.
/// </summary>
public class BackendSnapshotTests
{
    private static GeneratorOutput Run(string source)
    {
        var run = GeneratorHarness.RunWithBackends(source);
        Assert.Null(run.Exception);
        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Empty(run.CompilationProblems);
        return run;
    }

    [Fact]
    public void StructureLossBackendFiles()
    {
        var run = Run(Sources.StructureLoss);
        Assert.Equal(
            new[] { "Cpu", "Ilgpu", "Reference", "TorchSharp" }.Select(b => $"LossDsl.Tests.StructureLoss.{b}.g.cs"),
            run.Sources.Select(s => s.Hint).OrderBy(h => h, System.StringComparer.Ordinal));
        foreach (var hint in new[] { "LossDsl.Tests.StructureLoss.TorchSharp.g.cs", "LossDsl.Tests.StructureLoss.Ilgpu.g.cs" })
        {
            Snapshot.Verify(run.Source(hint), hint[..^3], "cs");
        }
    }

    [Fact]
    public void PraNetStructureLossTorchSharpFile()
    {
        const string hint = "LossDsl.Tests.PraNetStructureLoss.TorchSharp.g.cs";
        Snapshot.Verify(Run(Sources.PraNetStructureLoss).Source(hint), hint[..^3], "cs");
    }

    /// <summary>Reductions over channels: the image kernels and their channel loops on every backend.</summary>
    [Fact]
    public void SoftmaxLossBackendFiles()
    {
        var run = Run(Sources.DiceCE);
        foreach (var backend in new[] { "Cpu", "TorchSharp", "Ilgpu" })
        {
            string hint = $"LossDsl.Tests.DiceCE.{backend}.g.cs";
            Snapshot.Verify(run.Source(hint), hint[..^3], "cs");
        }
    }

    [Fact]
    public void BackendFilesAreDeterministic()
    {
        foreach (var source in new[] { Sources.StructureLoss, Sources.PraNetStructureLoss, Sources.DiceCE })
        {
            var first = GeneratorHarness.RunWithBackends(source).Sources;
            var second = GeneratorHarness.RunWithBackends(source).Sources;
            Assert.Equal(first.Select(s => s.Hint), second.Select(s => s.Hint));
            foreach (var (a, b) in first.Zip(second))
            {
                Assert.Equal(a.Text, b.Text);
            }
        }
    }

    [Fact]
    public void BackendFilesAreCultureInvariant()
    {
        // A decimal comma and a non-ASCII minus sign (RobustnessTests.OddCulture) must not leak into the generated code.
        var invariant = GeneratorHarness.RunWithBackends(Sources.StructureLoss).Sources;
        var (c, ui) = (System.Globalization.CultureInfo.CurrentCulture, System.Globalization.CultureInfo.CurrentUICulture);
        try
        {
            System.Globalization.CultureInfo.CurrentCulture = RobustnessTests.OddCulture();
            System.Globalization.CultureInfo.CurrentUICulture = RobustnessTests.OddCulture();
            var odd = GeneratorHarness.RunWithBackends(Sources.StructureLoss).Sources;
            Assert.Equal(invariant.Select(s => s.Hint), odd.Select(s => s.Hint));
            foreach (var (a, b) in invariant.Zip(odd))
            {
                Assert.Equal(a.Text, b.Text);
            }
        }
        finally
        {
            System.Globalization.CultureInfo.CurrentCulture = c;
            System.Globalization.CultureInfo.CurrentUICulture = ui;
        }
    }
}
