using SegSharp.Runtime;
using SegSharp.Tests.Cli;

namespace SegSharp.Tests.Runtime;

public sealed class MallocHugePagesTests
{
    private const string Madvise = "always [madvise] never\n";
    private static readonly Version Bookworm = new(2, 36);

    [Fact]
    public void Only_a_kernel_that_gives_huge_pages_on_request_and_a_glibc_that_asks_re_execute_and_only_once()
    {
        Assert.True(MallocHugePages.ShouldReexecute(null, Madvise, Bookworm));
        Assert.True(MallocHugePages.ShouldReexecute("", Madvise, new Version(2, 35)));
        Assert.True(MallocHugePages.ShouldReexecute("glibc.malloc.arena_max=2", Madvise, Bookworm));
        Assert.False(MallocHugePages.ShouldReexecute(null, Madvise, new Version(2, 34)));        // no such tunable before 2.35
        Assert.False(MallocHugePages.ShouldReexecute(null, Madvise, null));                       // not glibc
        Assert.False(MallocHugePages.ShouldReexecute(null, "[always] madvise never\n", Bookworm)); // huge pages without asking
        Assert.False(MallocHugePages.ShouldReexecute(null, "always madvise [never]\n", Bookworm));
        Assert.False(MallocHugePages.ShouldReexecute(null, null, Bookworm));                      // no THP in this kernel
        Assert.False(MallocHugePages.ShouldReexecute("glibc.malloc.hugetlb=0", Madvise, Bookworm)); // the user opted out
        // What the re-executed process sees: the tunable is set, so it does not replace itself again.
        Assert.False(MallocHugePages.ShouldReexecute(MallocHugePages.WithTunable("glibc.malloc.arena_max=2"), Madvise, Bookworm));
    }

    [Fact]
    public void The_tunable_is_added_to_and_removed_from_the_user_s_other_tunables()
    {
        Assert.Equal("glibc.malloc.hugetlb=1", MallocHugePages.WithTunable(null));
        Assert.Equal("glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1", MallocHugePages.WithTunable("glibc.malloc.arena_max=2"));
        Assert.Equal("glibc.malloc.arena_max=2", MallocHugePages.WithoutTunable("glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1"));
        Assert.Equal("a=1:b=2", MallocHugePages.WithoutTunable("a=1:glibc.malloc.hugetlb=0:b=2"));
        Assert.Null(MallocHugePages.WithoutTunable("glibc.malloc.hugetlb=1"));
        Assert.Null(MallocHugePages.WithoutTunable(null));
        Assert.Equal("madvise", MallocHugePages.KernelMode(Madvise));
        Assert.Null(MallocHugePages.KernelMode("garbage"));
    }

    /// <summary>
    /// The real tool, started without the tunable: it replaces itself, so the process that answers has it in its
    /// environment (nothing else puts it there), and it keeps its arguments byte for byte and its exit codes.
    /// </summary>
    [Fact]
    public void The_tool_re_executes_itself_with_huge_pages_and_keeps_its_arguments_and_exit_codes()
    {
        string? modeFile = File.Exists("/sys/kernel/mm/transparent_hugepage/enabled") ? File.ReadAllText("/sys/kernel/mm/transparent_hugepage/enabled") : null;
        string expected = MallocHugePages.KernelMode(modeFile) switch
        {
            "madvise" => "malloc_huge_pages: on (glibc.malloc.hugetlb=1, kernel THP madvise)",
            "always" => "malloc_huge_pages: on (kernel THP always)",
            null => "malloc_huge_pages: off (no transparent huge pages here)",
            var other => $"malloc_huge_pages: off (kernel THP {other})",
        };
        var unset = new Dictionary<string, string> { ["GLIBC_TUNABLES"] = "" };
        var info = CliProcess.Run(["info"], unset);
        Assert.Equal(0, info.Code);
        Assert.Contains(expected, info.Out.Split('\n'));

        var optedOut = CliProcess.Run(["info"], new Dictionary<string, string> { ["GLIBC_TUNABLES"] = "glibc.malloc.hugetlb=0" });
        if (MallocHugePages.KernelMode(modeFile) == "madvise") Assert.Contains("malloc_huge_pages: off (glibc.malloc.hugetlb=0)", optedOut.Out.Split('\n'));

        const string folder = "runs/a b\tc/é ü";
        var shown = CliProcess.Run(["config", "show", "--set", $"output.dir={folder}"], unset);
        Assert.Equal(0, shown.Code);
        Assert.Contains($"dir: '{folder}'", shown.Out, StringComparison.Ordinal);

        // An empty last argument survives too (it is only a trailing NUL in /proc/self/cmdline).
        var empty = CliProcess.Run(["config", "show", "--set", ""], unset);
        Assert.Equal(2, empty.Code);
        Assert.Contains("--set '' is not of the form", empty.Error, StringComparison.Ordinal);

        var bad = CliProcess.Run(["train", "--set", "nonsense.key=1"], unset);
        Assert.Equal(2, bad.Code);
        Assert.Contains("unknown key 'nonsense'", bad.Error, StringComparison.Ordinal);
    }
}
