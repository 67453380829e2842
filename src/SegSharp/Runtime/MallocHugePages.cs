using System.Runtime.InteropServices;

namespace SegSharp.Runtime;

/// <summary>
/// Transparent huge pages for libtorch's large allocations. glibc's malloc serves every allocation above its mmap
/// threshold (a training step's activations and their gradients) from a fresh mapping and unmaps it on free, so every
/// step faults those megabytes in again, 4 KB at a time: on the 2-core test VM a fifth of a DeepLabV3+ training step
/// went to page faults. glibc's tunable <c>glibc.malloc.hugetlb=1</c> (glibc 2.35 and later) asks the kernel for
/// transparent huge pages on those mappings, one fault per 2 MB, and keeps no more memory than before. Tunables are read
/// when a process starts, so the command-line tool re-executes itself once, first thing, with the same process id,
/// arguments and environment plus that tunable (<see cref="AdoptByReexecuting"/>). A library host sets
/// <c>GLIBC_TUNABLES</c> itself; <c>GLIBC_TUNABLES=glibc.malloc.hugetlb=0</c> opts out.
/// </summary>
public static class MallocHugePages
{
    public const string Tunable = "glibc.malloc.hugetlb";

    private const string ThpModeFile = "/sys/kernel/mm/transparent_hugepage/enabled";

    /// <summary>The state of this process, e.g. "on (glibc.malloc.hugetlb=1, kernel THP madvise)" or "off (kernel THP never)".</summary>
    public static string Describe()
    {
        string? mode = KernelMode(ReadOrNull(ThpModeFile));
        string? chosen = Chosen(Environment.GetEnvironmentVariable("GLIBC_TUNABLES"));
        if (mode is null) return "off (no transparent huge pages here)";
        if (mode == "always") return "on (kernel THP always)";
        if (mode != "madvise") return $"off (kernel THP {mode})";
        return chosen is null ? $"off ({Tunable} not set, kernel THP madvise)"
            : chosen == "0" ? $"off ({Tunable}=0)" : $"on ({Tunable}={chosen}, kernel THP madvise)";
    }

    /// <summary>
    /// True when re-executing with the tunable would change something: the kernel gives huge pages only on request
    /// (<c>madvise</c>; with <c>always</c> malloc's mappings already get them), glibc knows the tunable, and nobody chose
    /// it already (the user, or this method in the process it replaced).
    /// </summary>
    public static bool ShouldReexecute(string? tunables, string? kernelModeFile, Version? glibc) =>
        Chosen(tunables) is null && KernelMode(kernelModeFile) == "madvise" && glibc is not null && glibc >= new Version(2, 35);

    /// <summary><paramref name="tunables"/> (the current <c>GLIBC_TUNABLES</c>, may be empty) with the huge-page tunable added.</summary>
    public static string WithTunable(string? tunables) =>
        string.IsNullOrEmpty(tunables) ? $"{Tunable}=1" : $"{tunables}:{Tunable}=1";

    /// <summary>
    /// <paramref name="tunables"/> without the huge-page tunable, or null when nothing is left: for a child process that
    /// should run with glibc's defaults (the benchmark's plain-PyTorch peer).
    /// </summary>
    public static string? WithoutTunable(string? tunables)
    {
        var kept = (tunables ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries).Where(p => !p.StartsWith(Tunable + "=", StringComparison.Ordinal));
        string joined = string.Join(':', kept);
        return joined.Length > 0 ? joined : null;
    }

    /// <summary>The kernel's transparent-huge-page mode from its <c>enabled</c> file ("always [madvise] never" gives madvise).</summary>
    public static string? KernelMode(string? file)
    {
        if (file is null) return null;
        int open = file.IndexOf('[', StringComparison.Ordinal), close = file.IndexOf(']', StringComparison.Ordinal);
        return open >= 0 && close > open ? file[(open + 1)..close] : null;
    }

    /// <summary>
    /// Replaces this process by itself with the tunable set, when <see cref="ShouldReexecute"/> says so; otherwise, or
    /// when the replacement cannot start, returns and the process goes on as it was. Call it first in <c>Main</c>,
    /// before any output and before libtorch loads: nothing of this process survives but its id and open files.
    /// </summary>
    public static void AdoptByReexecuting()
    {
        if (!OperatingSystem.IsLinux()) return;
        string? tunables = Environment.GetEnvironmentVariable("GLIBC_TUNABLES");
        if (!ShouldReexecute(tunables, ReadOrNull(ThpModeFile), GlibcVersion())) return;
        // The arguments and environment exactly as this process got them (each ended by a NUL); a process whose
        // arguments or environment are not valid UTF-8 is left as it is rather than handed on altered.
        if (NulSeparated("/proc/self/cmdline") is not { Count: > 0 } arguments || NulSeparated("/proc/self/environ") is not { } variables) return;
        var argv = arguments.Cast<string?>().Append(null).ToArray();
        var envp = variables.Where(v => !v.StartsWith("GLIBC_TUNABLES=", StringComparison.Ordinal))
            .Append($"GLIBC_TUNABLES={WithTunable(tunables)}").Cast<string?>().Append(null).ToArray();
        Console.Out.Flush();
        Console.Error.Flush();
        // execve returns only when it failed: the process carries on without huge pages.
        _ = execve("/proc/self/exe", argv, envp);
    }

    private static Version? GlibcVersion()
    {
        try
        {
            return Version.TryParse(Marshal.PtrToStringAnsi(gnu_get_libc_version()), out var version) ? version : null;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return null; // not glibc (musl has no such tunable)
        }
    }

    private static string? Chosen(string? tunables)
    {
        foreach (string pair in (tunables ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
            if (pair.StartsWith(Tunable + "=", StringComparison.Ordinal)) return pair[(Tunable.Length + 1)..];
        return null;
    }

    /// <summary>The NUL-ended strings of a /proc file, or null when it cannot be read or is not valid UTF-8.</summary>
    private static List<string>? NulSeparated(string path)
    {
        try
        {
            byte[] bytes = File.ReadAllBytes(path);
            string text = new System.Text.UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
            // Each string ends with a NUL, so the last piece of the split is the empty rest after the final one.
            var pieces = text.Split('\0').ToList();
            if (pieces.Count == 0 || pieces[^1].Length != 0) return null;
            pieces.RemoveAt(pieces.Count - 1);
            return pieces;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Text.DecoderFallbackException)
        {
            return null;
        }
    }

    private static string? ReadOrNull(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    [DllImport("libc", EntryPoint = "gnu_get_libc_version")]
    private static extern IntPtr gnu_get_libc_version();

    [DllImport("libc", EntryPoint = "execve", CharSet = CharSet.Ansi, BestFitMapping = false, ThrowOnUnmappableChar = true)]
    private static extern int execve(string path, string?[] argv, string?[] envp);
}
