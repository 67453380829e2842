using SegSharp.Build;

namespace SegSharp.Tests.Runtime;

public class ElfVersionNeedsTests
{
    private static string NuGetBridge()
    {
        string root = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
                      ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        return Path.Combine(root, "torchsharp", "0.107.0", "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
    }

    [Fact]
    public void Unpatched_bridge_needs_GLIBCXX_3_4_32_bound_only_to_the_iostream_marker()
    {
        byte[] elf = File.ReadAllBytes(NuGetBridge());
        var need = ElfVersionNeeds.ReadNeeds(elf).Single(n => n.Version == "GLIBCXX_3.4.32");
        Assert.Equal("libstdc++.so.6", need.File);
        Assert.False(need.IsWeak);
        Assert.Equal(new[] { "_ZSt21ios_base_library_initv" }, ElfVersionNeeds.SymbolsOfVersion(elf, need.Index));
    }

    [Fact]
    public void Weakening_changes_only_the_flags_of_versions_the_system_lacks()
    {
        byte[] original = File.ReadAllBytes(NuGetBridge());
        byte[] patched = (byte[])original.Clone();
        var present = new HashSet<string>(ElfVersionNeeds.ReadNeeds(original).Select(n => n.Version));
        present.Remove("GLIBCXX_3.4.32");

        var weakened = ElfVersionNeeds.WeakenMissing(patched, "libstdc++.so.6", present);

        Assert.Equal(new[] { "GLIBCXX_3.4.32" }, weakened);
        var differing = Enumerable.Range(0, original.Length).Where(i => original[i] != patched[i]).ToList();
        var flagsOffset = ElfVersionNeeds.ReadNeeds(original).Single(n => n.Version == "GLIBCXX_3.4.32").FlagsOffset;
        Assert.Equal(new[] { (int)flagsOffset }, differing);
        Assert.True(ElfVersionNeeds.ReadNeeds(patched).Single(n => n.Version == "GLIBCXX_3.4.32").IsWeak);
        Assert.Empty(ElfVersionNeeds.WeakenMissing(patched, "libstdc++.so.6", present));
    }

    [Fact]
    public void A_missing_version_with_real_symbols_is_refused()
    {
        byte[] elf = File.ReadAllBytes(NuGetBridge());
        var present = new HashSet<string>(ElfVersionNeeds.ReadNeeds(elf).Select(n => n.Version));
        present.Remove("GLIBCXX_3.4.30");
        var error = Assert.Throws<InvalidOperationException>(() => ElfVersionNeeds.WeakenMissing(elf, "libstdc++.so.6", present));
        Assert.Contains("GLIBCXX_3.4.30", error.Message);
    }

    [Fact]
    public void Nothing_is_patched_when_the_system_has_every_version()
    {
        byte[] elf = File.ReadAllBytes(NuGetBridge());
        var all = new HashSet<string>(ElfVersionNeeds.ReadNeeds(elf).Select(n => n.Version));
        Assert.Empty(ElfVersionNeeds.WeakenMissing(elf, "libstdc++.so.6", all));
    }

    [Fact]
    public void Build_output_bridge_matches_what_this_systems_libstdcxx_needs()
    {
        string system = SystemLibStdCxx.Find()!;
        var defined = ElfVersionNeeds.ReadDefinitions(File.ReadAllBytes(system));
        Assert.Contains("GLIBCXX_3.4.9", defined);
        string output = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        var need = ElfVersionNeeds.ReadNeeds(File.ReadAllBytes(output)).Single(n => n.Version == "GLIBCXX_3.4.32");
        // Patched exactly when the system lacks the version; the NuGet cache copy stays untouched either way.
        Assert.Equal(!defined.Contains("GLIBCXX_3.4.32"), need.IsWeak);
        Assert.False(ElfVersionNeeds.ReadNeeds(File.ReadAllBytes(NuGetBridge())).Single(n => n.Version == "GLIBCXX_3.4.32").IsWeak);
    }

    [Fact]
    public void The_portable_baseline_is_GCC_12_s_libstdcxx_whatever_this_system_has()
    {
        var sample = new HashSet<string> { "GLIBCXX_3.4", "GLIBCXX_3.4.30", "GLIBCXX_3.4.31", "GLIBCXX_3.4.32", "CXXABI_1.3.13", "CXXABI_1.3.15", "GCC_3.0" };
        Assert.Equal(new[] { "CXXABI_1.3.13", "GCC_3.0", "GLIBCXX_3.4", "GLIBCXX_3.4.30" }, ElfVersionNeeds.UpToGcc12(sample).Order(StringComparer.Ordinal));
        // A GCC 13 system: this one's libstdc++ versions plus 3.4.31 and 3.4.32.
        var newer = ElfVersionNeeds.ReadDefinitions(File.ReadAllBytes(SystemLibStdCxx.Find()!));
        newer.UnionWith(new[] { "GLIBCXX_3.4.31", "GLIBCXX_3.4.32" });
        // Patched for that baseline, the bridge's GLIBCXX_3.4.32 need (a marker only) becomes weak even where the system defines it.
        var elf = File.ReadAllBytes(NuGetBridge());
        Assert.Empty(ElfVersionNeeds.WeakenMissing(elf.ToArray(), "libstdc++.so.6", newer));
        Assert.Equal(new[] { "GLIBCXX_3.4.32" }, ElfVersionNeeds.WeakenMissing(elf, "libstdc++.so.6", ElfVersionNeeds.UpToGcc12(newer)));
    }
}
