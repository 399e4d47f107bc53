// Reads the version requirements (.gnu.version_r Verneed/Vernaux entries) of an ELF64
// little-endian file, e.g. to assert in a test that the build output's libLibTorchSharp.so
// needs GLIBCXX_3.4.32 only weakly:
//
//   var needs = ElfVersionNeeds.Read(path);
//   var e = Assert.Single(needs, n => n.Version == "GLIBCXX_3.4.32");
//   Assert.True(ElfVersionNeeds.IsWeak(e.Flags));
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;

namespace LossDsl.TorchSharp.Tests;

public static class ElfVersionNeeds
{
    public const ushort VerFlagBase = 0x1, VerFlagWeak = 0x2;

    public static bool IsWeak(ushort flags) => (flags & VerFlagWeak) != 0;

    /// <summary>
    /// Every Vernaux entry of the file: (File = needed library, e.g. "libstdc++.so.6",
    /// Version = e.g. "GLIBCXX_3.4.32", Flags = vna_flags). Empty when the file has no
    /// .gnu.version_r section. Throws InvalidDataException when the file is not ELF64 LE.
    /// </summary>
    public static IReadOnlyList<(string File, string Version, ushort Flags)> Read(string path)
    {
        byte[] b = File.ReadAllBytes(path);
        if (b.Length < 64 || b[0] != 0x7f || b[1] != 'E' || b[2] != 'L' || b[3] != 'F')
            throw new InvalidDataException($"{path}: not an ELF file");
        if (b[4] != 2 || b[5] != 1)
            throw new InvalidDataException($"{path}: not ELF64 little-endian");

        ulong shoff = U64(b, 0x28);
        int shentsize = U16(b, 0x3A);
        ulong shnum = U16(b, 0x3C);
        uint shstrndx = U16(b, 0x3E);
        if (shoff == 0) return Array.Empty<(string, string, ushort)>();
        if (shnum == 0) shnum = U64(b, (long)shoff + 32);
        if (shstrndx == 0xffff) shstrndx = U32(b, (long)shoff + 40);

        long Hdr(ulong i) => checked((long)shoff + (long)i * shentsize);
        long shstrOff = (long)U64(b, Hdr(shstrndx) + 24);

        var result = new List<(string, string, ushort)>();
        for (ulong i = 0; i < shnum; i++)
        {
            long h = Hdr(i);
            if (CStr(b, shstrOff + U32(b, h)) != ".gnu.version_r") continue;
            long vr = (long)U64(b, h + 24);
            uint count = U32(b, h + 44);
            long dynstr = (long)U64(b, Hdr(U32(b, h + 40)) + 24);

            long vn = vr;
            for (uint n = 0; count == 0 || n < count; n++)
            {
                ushort cnt = U16(b, vn + 2);
                string file = CStr(b, dynstr + U32(b, vn + 4));
                long aux = vn + U32(b, vn + 8);
                for (int a = 0; a < cnt; a++)
                {
                    result.Add((file, CStr(b, dynstr + U32(b, aux + 8)), U16(b, aux + 4)));
                    uint next = U32(b, aux + 12);
                    if (next == 0) break;
                    aux += next;
                }
                uint vnNext = U32(b, vn + 12);
                if (vnNext == 0) break;
                vn += vnNext;
            }
        }
        return result;
    }

    /// <summary>(present, weak) for one version name, e.g. "GLIBCXX_3.4.32".</summary>
    public static (bool Present, bool Weak) Check(string path, string version = "GLIBCXX_3.4.32")
    {
        var hits = Read(path).Where(n => n.Version == version).ToList();
        return (hits.Count > 0, hits.Count > 0 && hits.All(n => IsWeak(n.Flags)));
    }

    static ushort U16(byte[] b, long o) => (ushort)(b[o] | b[o + 1] << 8);
    static uint U32(byte[] b, long o) => (uint)(b[o] | b[o + 1] << 8 | b[o + 2] << 16 | b[o + 3] << 24);
    static ulong U64(byte[] b, long o) => U32(b, o) | (ulong)U32(b, o + 4) << 32;
    static string CStr(byte[] b, long o)
    {
        long e = o;
        while (b[e] != 0) e++;
        return Encoding.ASCII.GetString(b, (int)o, (int)(e - o));
    }
}
