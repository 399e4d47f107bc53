using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.RegularExpressions;
using Xunit;

namespace LossDsl.Generators.Tests;

/// <summary>
/// The loss card every generated file opens with, and the user's names in the generated code: what a reviewer checks a
/// loss against, and what keeps a PR diff of the generated code as small as the change to the declaration.
/// </summary>
public class LossCardTests
{
    /// <summary>The card of a generated file: the comment lines between the auto-generated marker and the code.</summary>
    private static string Card(string file) =>
        string.Join("\n", file.Split('\n').Skip(1).TakeWhile(l => l.StartsWith("//", StringComparison.Ordinal))) + "\n";

    [Fact]
    public void FlagshipCard_ReadsLikeThePaper()
    {
        var run = GeneratorHarness.RunWithBackends(Sources.StructureLoss);
        Assert.Null(run.Exception);
        Assert.Empty(run.CompilationProblems);
        string card = Card(run.Source(".Cpu.g.cs"));
        Snapshot.Verify(card);

        // The user's names, not node numbers.
        Assert.DoesNotMatch(new Regex(@"\bv\d+\b"), card);
        Assert.Contains("w = 1 + 5·|avg_pool(mask, 31) - mask|", card);
        Assert.Contains("p = sigmoid(pred)", card);
        Assert.Contains("inter = Σ(mask·w·p)", card);
        Assert.Contains("IoU = 1 - (1 + inter) / (1 + union - inter)", card);
        Assert.Contains("∂L/∂pred = ", card);
        Assert.Contains("declared at Loss.cs(8)", card);

        // Every file of the loss opens with the same card.
        Assert.All(run.Sources, s => Assert.Equal(card, Card(s.Text)));
    }

    [Fact]
    public void AttributeFormCard_NamesThePreludesValues()
    {
        var run = GeneratorHarness.Run(Sources.StructureLossAttributes);
        Assert.Null(run.Exception);
        string card = Card(run.Source(".Cpu.g.cs"));
        Snapshot.Verify(card);
        Assert.Contains("options: reduction Mean, backends CPU, attribute form", card);
        Assert.Contains("weight = 1 + 5·|avg_pool(mask, 31) - mask|", card);
        Assert.Contains("WeightedBce = Σ(weight·bce_with_logits(pred, mask)) / Σ(weight)", card);
        Assert.Contains("inter = Σ(", card);
    }

    [Fact]
    public void HelperCalls_NameTheirValues()
    {
        const string source = """
            using LossDsl;
            using static LossDsl.Dsl;

            namespace LossDsl.Tests;

            [Loss(Reduction = Reduction.Sum)]
            public static partial class Named
            {
                private static Field Edge(Target mask) => Abs(AvgPool(mask, 3) - mask);

                [Term]
                private static Plane T(Logits pred, Target mask) => Mean(Edge(mask) * Softplus(pred));
            }
            """;
        var run = GeneratorHarness.Run(source);
        Assert.Null(run.Exception);
        Assert.Empty(run.CompilationProblems);
        string card = Card(run.Source(".Cpu.g.cs"));
        Assert.Contains("Edge(mask) = |avg_pool(mask, 3) - mask|", card);
        Assert.Contains("T = Σ(Edge(mask)·softplus(pred)) / HW", card);
        Assert.Contains("L = Σ of loss over the N·C planes", card);
        Assert.Contains("seed = ∂L/∂loss of the plane: 1)", card);
    }

    [Fact]
    public void GeneratedLocals_CarryTheUsersNames()
    {
        var run = GeneratorHarness.RunWithBackends(Sources.StructureLoss);
        Assert.Empty(run.CompilationProblems);
        string cpu = run.Source(".Cpu.g.cs");
        Assert.Contains("var p_ = global::LossDsl.Cpu.VectorMath.Sigmoid(", cpu);
        Assert.Contains("double inter_ = ", cpu);
        Assert.Contains("float p_ = ", run.Source(".Ilgpu.g.cs"));
    }

    [Fact]
    public void LocalsOfOneName_StayDistinct()
    {
        const string source = """
            using LossDsl;
            using static LossDsl.Dsl;

            namespace LossDsl.Tests;

            [Loss]
            public static partial class Twice
            {
                private static Plane A(Logits pred, Target mask) { var x = Sigmoid(pred); return Mean(x * mask); }

                private static Plane B(Logits pred, Target mask) { var x = Softplus(pred); return Mean(x); }

                [Term]
                private static Plane T(Logits pred, Target mask) => A(pred, mask) + B(pred, mask);
            }
            """;
        var run = GeneratorHarness.RunWithBackends(source);
        Assert.Null(run.Exception);
        Assert.Empty(run.CompilationProblems);
        string cpu = run.Source(".Cpu.g.cs");
        Assert.Contains(" x_ = ", cpu);
        Assert.Contains(" x_2 = ", cpu);
    }

    [Fact]
    public void ChangingOneConstant_ChangesOnlyTheLinesThatDependOnIt()
    {
        string before = Sources.StructureLoss;
        string after = before.Replace("1 + (5 * Abs(", "1 + (4 * Abs(", StringComparison.Ordinal);
        Assert.NotEqual(before, after);
        var a = GeneratorHarness.RunWithBackends(before);
        var b = GeneratorHarness.RunWithBackends(after);
        Assert.Empty(b.CompilationProblems);
        Assert.Equal(a.Sources.Select(s => s.Hint), b.Sources.Select(s => s.Hint));
        foreach (var ((hint, oldText), (_, newText)) in a.Sources.Zip(b.Sources))
        {
            var (removed, added) = LineDiff(oldText.Split('\n'), newText.Split('\n'));
            Assert.Equal(removed.Count, added.Count); // lines change in place; none appear or vanish
            Assert.InRange(added.Count, hint.EndsWith(".Reference.g.cs", StringComparison.Ordinal) ? 1 : 2, 24);
            // Each changed line is one that holds the constant.
            Assert.All(added, l => Assert.Matches(new Regex(@"\b4(\.0f?)?\b|·4|4·"), l));
        }
    }

    [Theory]
    [InlineData("/src/app/Losses/Structure.cs", "/src/app/", "Losses/Structure.cs")]
    [InlineData("/src/app/Losses/Structure.cs", "/src/app", "Losses/Structure.cs")]
    [InlineData(@"C:\repo\app\Loss.cs", @"C:\repo\app\", "Loss.cs")]
    [InlineData("/elsewhere/Shared/Loss.cs", "/src/app/", "Loss.cs")]
    [InlineData("/src/app/Loss.cs", null, "Loss.cs")]
    [InlineData("Loss.cs", null, "Loss.cs")]
    public void DeclarationPath_IsRelativeToTheProject(string path, string? projectDir, string expected) =>
        Assert.Equal(expected, LossGenerator.RelativePath(path, projectDir));

    /// <summary>The lines only in <paramref name="a"/> and only in <paramref name="b"/>, by a longest common subsequence.</summary>
    private static (List<string> Removed, List<string> Added) LineDiff(string[] a, string[] b)
    {
        var lcs = new int[a.Length + 1, b.Length + 1];
        for (int i = a.Length - 1; i >= 0; i--)
        {
            for (int j = b.Length - 1; j >= 0; j--)
            {
                lcs[i, j] = a[i] == b[j] ? lcs[i + 1, j + 1] + 1 : Math.Max(lcs[i + 1, j], lcs[i, j + 1]);
            }
        }

        var removed = new List<string>();
        var added = new List<string>();
        int x = 0, y = 0;
        while (x < a.Length && y < b.Length)
        {
            if (a[x] == b[y])
            {
                x++;
                y++;
            }
            else if (lcs[x + 1, y] >= lcs[x, y + 1])
            {
                removed.Add(a[x++]);
            }
            else
            {
                added.Add(b[y++]);
            }
        }

        removed.AddRange(a.Skip(x));
        added.AddRange(b.Skip(y));
        return (removed, added);
    }
}
