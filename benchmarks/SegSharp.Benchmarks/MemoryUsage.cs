namespace SegSharp.Benchmarks;

/// <summary>Resident set size of this process from /proc/self/status, in bytes.</summary>
public static class MemoryUsage
{
    /// <summary>Peak RSS since start or the last <see cref="ResetPeak"/> (VmHWM).</summary>
    public static long Peak() => Read("VmHWM:");

    public static long Current() => Read("VmRSS:");

    /// <summary>Resets the peak to the current RSS (Linux: writing 5 to /proc/self/clear_refs); false if not allowed.</summary>
    public static bool ResetPeak()
    {
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>A size field of /proc/self/status (e.g. "RssAnon:"), in bytes; 0 when absent.</summary>
    public static long Status(string key) => Read(key);

    private static long Read(string key)
    {
        var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith(key, StringComparison.Ordinal));
        return line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
    }
}
