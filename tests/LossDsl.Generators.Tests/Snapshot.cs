using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.CompilerServices;
using System.Text;
using Xunit.Sdk;

namespace LossDsl.Generators.Tests;

/// <summary>
/// Snapshot assertions with Verify's conventions, without Verify: the expected text lives in
/// <c>Snapshots/{Class}.{Method}[#{suffix}].verified.{ext}</c> beside the test file; on a mismatch (or a missing file)
/// the actual text is written to the matching <c>*.received.*</c> file and the test fails with a unified diff.
/// Set <c>LOSSDSL_ACCEPT=1</c> to (re)write the verified files instead, or rename received → verified.
/// Line endings are normalised to LF on both sides.
/// </summary>
internal static class Snapshot
{
    public static bool Accepting => Environment.GetEnvironmentVariable("LOSSDSL_ACCEPT") is "1" or "true";

    public static void Verify(
        string actual,
        string? suffix = null,
        string extension = "txt",
        [CallerFilePath] string callerFile = "",
        [CallerMemberName] string callerMember = "")
    {
        var directory = Path.Combine(Path.GetDirectoryName(callerFile)!, "Snapshots");
        var stem = Path.GetFileNameWithoutExtension(callerFile) + "." + callerMember + (suffix is null ? string.Empty : "#" + suffix);
        var verified = Path.Combine(directory, $"{stem}.verified.{extension}");
        var received = Path.Combine(directory, $"{stem}.received.{extension}");

        actual = Normalize(actual);
        if (Accepting)
        {
            Directory.CreateDirectory(directory);
            File.WriteAllText(verified, actual, new UTF8Encoding(false));
            File.Delete(received);
            return;
        }

        if (!File.Exists(verified))
        {
            Directory.CreateDirectory(directory);
            File.WriteAllText(received, actual, new UTF8Encoding(false));
            throw new XunitException($"Snapshot {Path.GetFileName(verified)} does not exist; wrote {received}. Review it and rename it to .verified (or rerun with LOSSDSL_ACCEPT=1).");
        }

        var expected = Normalize(File.ReadAllText(verified));
        if (expected == actual)
        {
            File.Delete(received);
            return;
        }

        File.WriteAllText(received, actual, new UTF8Encoding(false));
        throw new XunitException(
            $"Snapshot mismatch: {Path.GetFileName(verified)}; wrote {received}. Accept with LOSSDSL_ACCEPT=1 or rename received → verified.\n"
            + LineDiff.Unified(expected, actual, "verified", "received"));
    }

    public static string Normalize(string text) => text.Replace("\r\n", "\n").Replace('\r', '\n');
}

/// <summary>A small line diff (longest common subsequence) printed as unified-diff hunks.</summary>
internal static class LineDiff
{
    public static string Unified(string expected, string actual, string expectedName = "expected", string actualName = "actual", int context = 3, int maxLines = 200)
    {
        var a = expected.Split('\n');
        var b = actual.Split('\n');

        // Trim the common prefix and suffix so the LCS table stays small.
        int pre = 0;
        while (pre < a.Length && pre < b.Length && a[pre] == b[pre])
        {
            pre++;
        }

        int suf = 0;
        while (suf < a.Length - pre && suf < b.Length - pre && a[a.Length - 1 - suf] == b[b.Length - 1 - suf])
        {
            suf++;
        }

        int n = a.Length - pre - suf, m = b.Length - pre - suf;
        var lcs = new int[n + 1, m + 1];
        for (int i = n - 1; i >= 0; i--)
        {
            for (int j = m - 1; j >= 0; j--)
            {
                lcs[i, j] = a[pre + i] == b[pre + j] ? lcs[i + 1, j + 1] + 1 : Math.Max(lcs[i + 1, j], lcs[i, j + 1]);
            }
        }

        // Edit script over the whole files: (' ', line), ('-', line), ('+', line) with 1-based line numbers.
        var ops = new List<(char Kind, int A, int B)>();
        for (int k = 0; k < pre; k++)
        {
            ops.Add((' ', k, k));
        }

        int x = 0, y = 0;
        while (x < n || y < m)
        {
            if (x < n && y < m && a[pre + x] == b[pre + y])
            {
                ops.Add((' ', pre + x++, pre + y++));
            }
            else if (x < n && (y == m || lcs[x + 1, y] >= lcs[x, y + 1]))
            {
                ops.Add(('-', pre + x++, pre + y));
            }
            else
            {
                ops.Add(('+', pre + x, pre + y++));
            }
        }

        for (int k = 0; k < suf; k++)
        {
            ops.Add((' ', a.Length - suf + k, b.Length - suf + k));
        }

        var sb = new StringBuilder().Append("--- ").Append(expectedName).Append('\n').Append("+++ ").Append(actualName).Append('\n');
        int lines = 0;
        for (int i = 0; i < ops.Count; i++)
        {
            if (ops[i].Kind == ' ')
            {
                continue;
            }

            int start = Math.Max(0, i - context), end = i;
            while (true)
            {
                int next = end + 1;
                while (next < ops.Count && ops[next].Kind == ' ' && next - end <= 2 * context)
                {
                    next++;
                }

                if (next < ops.Count && ops[next].Kind != ' ' && next - end <= 2 * context)
                {
                    end = next;
                    continue;
                }

                break;
            }

            end = Math.Min(ops.Count - 1, end + context);
            int aCount = 0, bCount = 0;
            for (int k = start; k <= end; k++)
            {
                aCount += ops[k].Kind != '+' ? 1 : 0;
                bCount += ops[k].Kind != '-' ? 1 : 0;
            }

            sb.Append($"@@ -{ops[start].A + 1},{aCount} +{ops[start].B + 1},{bCount} @@\n");
            for (int k = start; k <= end; k++)
            {
                sb.Append(ops[k].Kind).Append(ops[k].Kind == '+' ? b[ops[k].B] : a[ops[k].A]).Append('\n');
                if (++lines >= maxLines)
                {
                    return sb.Append("… (diff truncated)\n").ToString();
                }
            }

            i = end;
        }

        return sb.ToString();
    }
}
