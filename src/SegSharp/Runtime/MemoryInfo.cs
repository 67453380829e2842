namespace SegSharp.Runtime;

/// <summary>Memory the kernel says a new allocation can get without swapping (MemAvailable in /proc/meminfo).</summary>
internal static class MemoryInfo
{
    /// <returns>Bytes available, or null where /proc/meminfo is not readable.</returns>
    public static long? AvailableBytes()
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/meminfo"))
            {
                if (!line.StartsWith("MemAvailable:", StringComparison.Ordinal)) continue;
                var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                return long.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
        }
        return null;
    }
}
