using System.Linq;
using LossDsl.Generators.Emit;
using Xunit;

namespace LossDsl.Generators.Tests;

/// <summary>Snapshots of the compiler's middle (the schedule dump) and of whole generated files for representative losses.</summary>
public class SnapshotTests
{
    internal static string Dump(string source, string metadataName) =>
        MathText.Dump(LossGenerator.Compile(GeneratorHarness.ParseSpec(source, metadataName)));

    [Fact]
    public void StructureLossSchedule_MethodForm() =>
        Snapshot.Verify(Dump(Sources.StructureLoss, "LossDsl.Tests.StructureLoss"));

    [Fact]
    public void StructureLossSchedule_AttributeForm() =>
        Snapshot.Verify(Dump(Sources.StructureLossAttributes, "LossDsl.Tests.StructureLossAttributes"));

    [Fact]
    public void StructureLossSchedule_BothSurfacesAgree()
    {
        var method = LossGenerator.Compile(GeneratorHarness.ParseSpec(Sources.StructureLoss, "LossDsl.Tests.StructureLoss"));
        var attributes = LossGenerator.Compile(GeneratorHarness.ParseSpec(Sources.StructureLossAttributes, "LossDsl.Tests.StructureLossAttributes"));

        // Node numbers differ (hash-consing order follows the declaration), so compare each phase by node structure.
        Assert.Equal(ScheduleTests.PhaseSizes(method), ScheduleTests.PhaseSizes(attributes));
        Assert.Equal(ScheduleTests.Canonical(method), ScheduleTests.Canonical(attributes));
        Assert.Equal(method.Graph.Count, attributes.Graph.Count);
    }

    [Fact]
    public void StructureLossFiles()
    {
        var run = GeneratorHarness.Run(Sources.StructureLoss);
        Assert.Null(run.Exception);
        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Empty(run.CompilationProblems);

        // Without the TorchSharp/ILGPU runtimes referenced, only the reference interpreter and the CPU backend are emitted.
        Assert.Equal(new[] { "LossDsl.Tests.StructureLoss.Cpu.g.cs", "LossDsl.Tests.StructureLoss.Reference.g.cs" }, run.Sources.Select(s => s.Hint).OrderBy(h => h, System.StringComparer.Ordinal));
        foreach (var (hint, text) in run.Sources)
        {
            Snapshot.Verify(text, hint[..^3], "cs");
        }
    }

    [Theory]
    [InlineData(Sources.SoftDice, "LossDsl.Tests.DiceLoss.Cpu.g.cs")]
    [InlineData(Sources.Focal, "LossDsl.Tests.FocalLoss.Cpu.g.cs")]
    public void CpuFiles(string source, string hint)
    {
        var run = GeneratorHarness.Run(source);
        Assert.Null(run.Exception);
        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Empty(run.CompilationProblems);
        Snapshot.Verify(run.Source(hint), hint[..^3], "cs");
    }
}
