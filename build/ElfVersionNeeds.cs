// Reads and edits the version-need table (.gnu.version_r) of a 64-bit little-endian ELF shared object.
//
// Why this exists: TorchSharp 0.107.0's libLibTorchSharp.so was linked against GCC 13's libstdc++ and so
// declares a need for GLIBCXX_3.4.32. Debian 12 and Ubuntu 22.04 ship GCC 12's libstdc++, which stops at
// GLIBCXX_3.4.30, so the dynamic loader refuses the library. The only symbol bound to that version is
// `_ZSt21ios_base_library_initv`, a marker GCC 13 emits to pull in iostream initialisation; nothing
// relocates against it. Marking the need VER_FLG_WEAK tells the loader a missing version is not fatal,
// which is exactly true here. This file is compiled both into the MSBuild task in LibTorchSharpPatch.targets
// and into the test project, so the logic that touches the binary is tested.
//
// The edit is refused when a missing version is bound to any symbol other than the known markers:
// such a library really needs the newer libstdc++ and must not be made to load.
#nullable enable
using System;
using System.Collections.Generic;
using System.IO;
using System.Text;

namespace SegSharp.Build;

/// <summary>One entry of a version-need table: library file, version name, flags and where the flags live.</summary>
// Plain classes, not records: MSBuild compiles this file for netstandard2.0.
public sealed class ElfVersionNeed
{
    public const ushort WeakFlag = 0x2;

    public ElfVersionNeed(string file, string version, ushort flags, ushort index, long flagsOffset)
    {
        File = file; Version = version; Flags = flags; Index = index; FlagsOffset = flagsOffset;
    }

    public string File { get; }
    public string Version { get; }
    public ushort Flags { get; }
    public ushort Index { get; }
    public long FlagsOffset { get; }
    public bool IsWeak => (Flags & WeakFlag) != 0;
}

/// <summary>Parses version needs, version definitions and versioned dynamic symbols of an ELF64 LE file.</summary>
public static class ElfVersionNeeds
{
    public const uint SectionDynamicSymbols = 11;
    public const uint SectionVersionDefinitions = 0x6ffffffd;
    public const uint SectionVersionNeeds = 0x6ffffffe;
    public const uint SectionVersionSymbols = 0x6fffffff;

    /// <summary>Symbols known to be version markers only: weakening a need bound to nothing but these is safe.</summary>
    public static readonly IReadOnlyCollection<string> MarkerSymbols = new[] { "_ZSt21ios_base_library_initv" };

    private sealed class Section
    {
        public Section(uint type, long offset, long size, uint link, uint info)
        {
            Type = type; Offset = offset; Size = size; Link = link; Info = info;
        }

        public uint Type { get; }
        public long Offset { get; }
        public long Size { get; }
        public uint Link { get; }
        public uint Info { get; }
    }

    public static bool IsElf64LittleEndian(byte[] bytes) =>
        bytes.Length > 64 && bytes[0] == 0x7f && bytes[1] == (byte)'E' && bytes[2] == (byte)'L' && bytes[3] == (byte)'F'
        && bytes[4] == 2 && bytes[5] == 1;

    /// <summary>Every (file, version) the object needs, in table order.</summary>
    public static IReadOnlyList<ElfVersionNeed> ReadNeeds(byte[] elf)
    {
        var result = new List<ElfVersionNeed>();
        var sections = ReadSections(elf);
        foreach (var section in sections)
        {
            if (section.Type != SectionVersionNeeds) continue;
            var strings = sections[(int)section.Link];
            long entry = section.Offset;
            for (uint i = 0; i < section.Info; i++)
            {
                ushort count = U16(elf, entry + 2);
                string file = CString(elf, strings.Offset + U32(elf, entry + 4));
                long aux = entry + U32(elf, entry + 8);
                for (int j = 0; j < count; j++)
                {
                    ushort flags = U16(elf, aux + 4);
                    ushort index = U16(elf, aux + 6);
                    string name = CString(elf, strings.Offset + U32(elf, aux + 8));
                    result.Add(new ElfVersionNeed(file, name, flags, index, aux + 4));
                    uint nextAux = U32(elf, aux + 12);
                    if (nextAux == 0) break;
                    aux += nextAux;
                }
                uint next = U32(elf, entry + 12);
                if (next == 0) break;
                entry += next;
            }
        }
        return result;
    }

    /// <summary>Version names a library defines (its .gnu.version_d), e.g. GLIBCXX_3.4.30 for libstdc++.</summary>
    public static ISet<string> ReadDefinitions(byte[] elf)
    {
        var result = new HashSet<string>(StringComparer.Ordinal);
        var sections = ReadSections(elf);
        foreach (var section in sections)
        {
            if (section.Type != SectionVersionDefinitions) continue;
            var strings = sections[(int)section.Link];
            long entry = section.Offset;
            for (uint i = 0; i < section.Info; i++)
            {
                ushort auxCount = U16(elf, entry + 6);
                long aux = entry + U32(elf, entry + 12);
                if (auxCount > 0) result.Add(CString(elf, strings.Offset + U32(elf, aux)));
                uint next = U32(elf, entry + 16);
                if (next == 0) break;
                entry += next;
            }
        }
        return result;
    }

    /// <summary>Names of the dynamic symbols bound to the given version index.</summary>
    public static IReadOnlyList<string> SymbolsOfVersion(byte[] elf, ushort versionIndex)
    {
        var sections = ReadSections(elf);
        Section? symbols = null, versions = null;
        foreach (var s in sections)
        {
            if (s.Type == SectionDynamicSymbols) symbols = s;
            if (s.Type == SectionVersionSymbols) versions = s;
        }
        var result = new List<string>();
        if (symbols is null || versions is null) return result;
        var strings = sections[(int)symbols.Link];
        long count = symbols.Size / 24;
        for (long i = 0; i < count; i++)
        {
            ushort version = (ushort)(U16(elf, versions.Offset + 2 * i) & 0x7fff);
            if (version != versionIndex) continue;
            result.Add(CString(elf, strings.Offset + U32(elf, symbols.Offset + 24 * i)));
        }
        return result;
    }

    /// <summary>
    /// Marks weak every need on <paramref name="library"/> (e.g. libstdc++.so.6) whose version the system copy
    /// does not define, provided only marker symbols are bound to it. Returns the versions it weakened; throws
    /// <see cref="InvalidOperationException"/> naming the version and symbols when a missing version is real.
    /// </summary>
    public static IReadOnlyList<string> WeakenMissing(byte[] elf, string library, ISet<string> systemVersions)
    {
        var weakened = new List<string>();
        foreach (var need in ReadNeeds(elf))
        {
            if (need.File != library || need.IsWeak || systemVersions.Contains(need.Version)) continue;
            var bound = SymbolsOfVersion(elf, need.Index);
            foreach (var symbol in bound)
            {
                if (!Contains(MarkerSymbols, symbol))
                    throw new InvalidOperationException(
                        $"{library} on this system lacks {need.Version}, which the library uses for symbol {symbol}; " +
                        "install a libstdc++ from GCC 13 or newer.");
            }
            ushort flags = (ushort)(need.Flags | ElfVersionNeed.WeakFlag);
            elf[need.FlagsOffset] = (byte)(flags & 0xff);
            elf[need.FlagsOffset + 1] = (byte)(flags >> 8);
            weakened.Add(need.Version);
        }
        return weakened;
    }

    /// <summary>Patches <paramref name="path"/> in place (via a temp file and rename). Returns the weakened versions.</summary>
    public static IReadOnlyList<string> WeakenMissingInFile(string path, string library, ISet<string> systemVersions)
    {
        byte[] elf = File.ReadAllBytes(path);
        if (!IsElf64LittleEndian(elf)) return Array.Empty<string>();
        var weakened = WeakenMissing(elf, library, systemVersions);
        if (weakened.Count == 0) return weakened;
        string temp = path + ".tmp";
        File.WriteAllBytes(temp, elf);
        File.Copy(temp, path, overwrite: true);
        File.Delete(temp);
        return weakened;
    }

    /// <summary>The versions of <paramref name="defined"/> that GCC 12's libstdc++ (Debian 12, Ubuntu 22.04) also defines.</summary>
    public static ISet<string> UpToGcc12(ISet<string> defined)
    {
        var result = new HashSet<string>();
        foreach (var version in defined)
        {
            if (Newer(version, "GLIBCXX_3.4.", 30) || Newer(version, "CXXABI_1.3.", 13)) continue;
            result.Add(version);
        }
        return result;
    }

    // Substring, not a span: MSBuild compiles this file for netstandard2.0, which has no int.TryParse(ReadOnlySpan<char>).
#pragma warning disable CA1846
    private static bool Newer(string version, string prefix, int last) =>
        version.StartsWith(prefix, StringComparison.Ordinal) && int.TryParse(version.Substring(prefix.Length), out int n) && n > last;
#pragma warning restore CA1846

    private static bool Contains(IReadOnlyCollection<string> names, string name)
    {
        foreach (var n in names) if (n == name) return true;
        return false;
    }

    private static List<Section> ReadSections(byte[] elf)
    {
        if (!IsElf64LittleEndian(elf)) throw new InvalidDataException("Not a 64-bit little-endian ELF file.");
        long tableOffset = (long)U64(elf, 0x28);
        ushort entrySize = U16(elf, 0x3a);
        ushort count = U16(elf, 0x3c);
        var sections = new List<Section>(count);
        for (int i = 0; i < count; i++)
        {
            long h = tableOffset + (long)i * entrySize;
            sections.Add(new Section(U32(elf, h + 4), (long)U64(elf, h + 0x18), (long)U64(elf, h + 0x20),
                U32(elf, h + 0x28), U32(elf, h + 0x2c)));
        }
        return sections;
    }

    private static ushort U16(byte[] b, long o) => (ushort)(b[o] | b[o + 1] << 8);
    private static uint U32(byte[] b, long o) => (uint)(b[o] | b[o + 1] << 8 | b[o + 2] << 16 | b[o + 3] << 24);
    private static ulong U64(byte[] b, long o) => U32(b, o) | (ulong)U32(b, o + 4) << 32;

    private static string CString(byte[] b, long o)
    {
        long end = o;
        while (b[end] != 0) end++;
        return Encoding.ASCII.GetString(b, (int)o, (int)(end - o));
    }
}

#if !ELF_PATCH_WITHOUT_MSBUILD
/// <summary>
/// MSBuild task: for each given libLibTorchSharp.so, weakens the libstdc++ version needs that the system's
/// libstdc++.so.6 does not define. Does nothing where the system library is new enough.
/// </summary>
public sealed class WeakenMissingLibStdCxxVersions : Microsoft.Build.Utilities.Task
{
    [Microsoft.Build.Framework.Required]
    public Microsoft.Build.Framework.ITaskItem[] Files { get; set; } = Array.Empty<Microsoft.Build.Framework.ITaskItem>();

    /// <summary>
    /// For files that leave this machine (packages): patch as if the system's libstdc++ were GCC 12's, the oldest that
    /// SegSharp supports, whatever this machine has, so the package loads on Debian 12 even when built on a newer system.
    /// </summary>
    public bool Portable { get; set; }

    public override bool Execute()
    {
        string? system = SystemLibStdCxx.Find();
        if (system is null)
        {
            Log.LogMessage(Microsoft.Build.Framework.MessageImportance.Normal,
                "SegSharp: no system libstdc++.so.6 found; libLibTorchSharp.so left as it is.");
            return true;
        }
        var defined = ElfVersionNeeds.ReadDefinitions(File.ReadAllBytes(system));
        if (Portable) defined = ElfVersionNeeds.UpToGcc12(defined);
        foreach (var item in Files)
        {
            string path = item.ItemSpec;
            if (!File.Exists(path)) continue;
            try
            {
                var weakened = ElfVersionNeeds.WeakenMissingInFile(path, "libstdc++.so.6", defined);
                if (weakened.Count > 0)
                    Log.LogMessage(Microsoft.Build.Framework.MessageImportance.High,
                        $"SegSharp: {system} lacks {string.Join(", ", weakened)}; marked that need weak in {path} " +
                        "(see docs/native-runtime.md).");
            }
            catch (InvalidOperationException e)
            {
                Log.LogWarning($"SegSharp: cannot make {path} load on this system: {e.Message}");
            }
        }
        return !Log.HasLoggedErrors;
    }
}
#endif

/// <summary>Locates the libstdc++.so.6 the dynamic loader would pick for a 64-bit process.</summary>
public static class SystemLibStdCxx
{
    private static readonly string[] KnownPaths =
    {
        "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/lib/x86_64-linux-gnu/libstdc++.so.6",
        "/usr/lib64/libstdc++.so.6", "/lib64/libstdc++.so.6",
        "/usr/lib/aarch64-linux-gnu/libstdc++.so.6", "/usr/lib/libstdc++.so.6",
    };

    public static string? Find()
    {
        foreach (var ldconfig in new[] { "/sbin/ldconfig", "/usr/sbin/ldconfig" })
        {
            if (!File.Exists(ldconfig)) continue;
            try
            {
                var info = new System.Diagnostics.ProcessStartInfo(ldconfig, "-p")
                {
                    RedirectStandardOutput = true, UseShellExecute = false,
                };
                using var process = System.Diagnostics.Process.Start(info)!;
                string output = process.StandardOutput.ReadToEnd();
                process.WaitForExit();
                foreach (var line in output.Split('\n'))
                {
                    string trimmed = line.Trim();
                    if (!trimmed.StartsWith("libstdc++.so.6 ", StringComparison.Ordinal)) continue;
                    if (!trimmed.Contains("64")) continue;
                    int arrow = trimmed.IndexOf("=> ", StringComparison.Ordinal);
                    if (arrow > 0) return trimmed.Substring(arrow + 3).Trim();
                }
            }
            catch (System.ComponentModel.Win32Exception)
            {
                // Fall through to the well-known paths.
            }
        }
        foreach (var path in KnownPaths) if (File.Exists(path)) return path;
        return null;
    }
}
