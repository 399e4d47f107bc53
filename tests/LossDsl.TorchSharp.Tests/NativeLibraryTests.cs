using System;
using System.IO;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace LossDsl.TorchSharp.Tests;

public class NativeLibraryTests
{
    static string NativeLibraryPath()
    {
        string path = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        Assert.True(File.Exists(path), $"expected the TorchSharp native library at {path}");
        return path;
    }

    [Fact]
    public void OutputLibLibTorchSharpNeedsGlibcxx3432OnlyWeakly()
    {
        string path = NativeLibraryPath();
        var needs = ElfVersionNeeds.Read(path);
        Assert.NotEmpty(needs); // the reader found .gnu.version_r at all
        Assert.Contains(needs, n => n.File.StartsWith("libstdc++", StringComparison.Ordinal));

        var (present, weak) = ElfVersionNeeds.Check(path, "GLIBCXX_3.4.32");
        Assert.True(!present || weak, $"{path} needs GLIBCXX_3.4.32 strongly: LossDsl.TorchSharp.targets did not patch it");
    }

    [Fact]
    public void PatchTouchesOnlyTheGlibcxx3432Entry()
    {
        // Every other version need keeps its flags (none of them weak in the shipped library).
        var needs = ElfVersionNeeds.Read(NativeLibraryPath());
        foreach (var n in needs)
        {
            if (n.Version != "GLIBCXX_3.4.32")
            {
                Assert.False(ElfVersionNeeds.IsWeak(n.Flags), $"{n.File} {n.Version} is weak");
            }
        }
    }

    [Fact]
    public void TorchSharpLoadsAndComputesAvgPool()
    {
        using var scope = torch.NewDisposeScope();
        var x = torch.arange(1, 10, dtype: ScalarType.Float64).reshape(1, 1, 3, 3);
        var y = F.avg_pool2d(x, 3, stride: 1, padding: 1); // count_include_pad = true by default
        Assert.Equal(new long[] { 1, 1, 3, 3 }, y.shape);

        double[] v = y.data<double>().ToArray();
        // corner: (1 + 2 + 4 + 5) / 9, edge: (1 + 2 + 3 + 4 + 5 + 6) / 9, centre: 45 / 9
        Assert.Equal(12.0 / 9, v[0], 14);
        Assert.Equal(21.0 / 9, v[1], 14);
        Assert.Equal(5.0, v[4], 14);
        Assert.Equal(28.0 / 9, v[8], 14);
    }
}
