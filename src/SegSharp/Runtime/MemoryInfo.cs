using System.Globalization;

namespace SegSharp.Runtime;

/// <summary>
/// Memory a new allocation can get: the kernel's MemAvailable (/proc/meminfo), or less where this process's control
/// group (a container's limit, a systemd slice, a batch scheduler's job) allows less: its limit minus what the group
/// already uses, the tightest of the group and its ancestors. cgroup v2 (memory.max, memory.current) and v1
/// (memory.limit_in_bytes, memory.usage_in_bytes) both.
/// </summary>
internal static class MemoryInfo
{
    /// <param name="proc">/proc (another root for tests).</param>
    /// <param name="cgroupRoot">Where the cgroup file systems are mounted (/sys/fs/cgroup).</param>
    /// <returns>Bytes available, or null where neither source is readable.</returns>
    public static long? AvailableBytes(string proc = "/proc", string cgroupRoot = "/sys/fs/cgroup")
    {
        long? machine = MachineAvailable(proc), group = GroupAvailable(proc, cgroupRoot);
        return machine is long m && group is long g ? Math.Min(m, g) : machine ?? group;
    }

    /// <summary>The control group's limit less its usage, the tightest along the group's path; null without a limit.</summary>
    public static long? GroupAvailable(string proc = "/proc", string cgroupRoot = "/sys/fs/cgroup")
    {
        try
        {
            long? tightest = null;
            foreach (string line in File.ReadLines(Path.Combine(proc, "self", "cgroup")))
            {
                // "0::/path" (v2) or "4:memory:/path" (v1); other v1 controllers do not limit memory.
                var parts = line.Split(':', 3);
                if (parts.Length != 3) continue;
                bool v2 = parts[0] == "0" && parts[1].Length == 0;
                if (!v2 && !parts[1].Split(',').Contains("memory")) continue;
                string mount = v2 ? (Directory.Exists(Path.Combine(cgroupRoot, "unified")) ? Path.Combine(cgroupRoot, "unified") : cgroupRoot)
                    : Path.Combine(cgroupRoot, "memory");
                var (limitFile, usageFile, cacheKey) = v2 ? ("memory.max", "memory.current", "inactive_file")
                    : ("memory.limit_in_bytes", "memory.usage_in_bytes", "total_inactive_file");
                for (string? path = parts[2]; path is not null; path = Parent(path))
                {
                    string folder = Path.Combine(mount, path.TrimStart('/'));
                    if (Read(Path.Combine(folder, limitFile)) is not long limit || Read(Path.Combine(folder, usageFile)) is not long usage) continue;
                    // Usage counts the page cache; its inactive part is what the kernel reclaims first (as MemAvailable assumes).
                    long left = Math.Max(0, limit - usage + Stat(Path.Combine(folder, "memory.stat"), cacheKey));
                    if (tightest is not long t || left < t) tightest = left;
                }
            }
            return tightest;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static long? MachineAvailable(string proc)
    {
        try
        {
            foreach (string line in File.ReadLines(Path.Combine(proc, "meminfo")))
            {
                if (!line.StartsWith("MemAvailable:", StringComparison.Ordinal)) continue;
                var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                return long.Parse(parts[1], CultureInfo.InvariantCulture) * 1024;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
        }
        return null;
    }

    /// <summary>A field of memory.stat ("key value" lines), 0 when absent.</summary>
    private static long Stat(string file, string key)
    {
        if (!File.Exists(file)) return 0;
        foreach (string line in File.ReadLines(file))
            if (line.StartsWith(key + " ", StringComparison.Ordinal) && long.TryParse(line.AsSpan(key.Length + 1), CultureInfo.InvariantCulture, out long v))
                return v;
        return 0;
    }

    /// <summary>"/a/b" → "/a" → "/" → null.</summary>
    private static string? Parent(string path) => path is "/" or "" ? null : Path.GetDirectoryName(path) ?? "/";

    /// <summary>A limit or usage file: a number of bytes; "max" and v1's "no limit" (near 2^63) are no limit.</summary>
    private static long? Read(string file)
    {
        if (!File.Exists(file)) return null;
        string text = File.ReadAllText(file).Trim();
        return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long value) && value < (1L << 62) ? value : null;
    }
}
