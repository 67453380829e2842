using System.Runtime.InteropServices;

namespace SegSharp.Runtime;

/// <summary>The CPU's model name and feature flags from /proc/cpuinfo, read once; empty flags elsewhere.</summary>
internal static class CpuInfo
{
    private static readonly Lazy<(string Model, IReadOnlySet<string> Flags)> Parsed = new(Read);

    /// <summary>"model name" of the first CPU, or the process architecture when there is none.</summary>
    public static string Model => Parsed.Value.Model;

    /// <summary>Feature flags of the first CPU, e.g. avx512f, avx512_bf16, amx_bf16.</summary>
    public static IReadOnlySet<string> Flags => Parsed.Value.Flags;

    /// <summary>CPUs online on this machine (/sys/devices/system/cpu/online, e.g. "0-1"), whatever this process may use; null if unknown.</summary>
    public static int? OnlineCores
    {
        get
        {
            try
            {
                int count = 0;
                foreach (var range in File.ReadAllText("/sys/devices/system/cpu/online").Trim().Split(','))
                {
                    var ends = range.Split('-');
                    count += ends.Length == 2 ? int.Parse(ends[1], System.Globalization.CultureInfo.InvariantCulture) -
                        int.Parse(ends[0], System.Globalization.CultureInfo.InvariantCulture) + 1 : 1;
                }
                return count;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
            {
                return null;
            }
        }
    }

    private static (string, IReadOnlySet<string>) Read()
    {
        string? model = null;
        var flags = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            foreach (string line in File.ReadLines("/proc/cpuinfo"))
            {
                if (model is null && line.StartsWith("model name", StringComparison.Ordinal)) model = Value(line);
                else if (flags.Count == 0 && line.StartsWith("flags", StringComparison.Ordinal))
                    flags.UnionWith(Value(line).Split(' ', StringSplitOptions.RemoveEmptyEntries));
                if (model is not null && flags.Count > 0) break;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
        return (model ?? RuntimeInformation.ProcessArchitecture.ToString(), flags);
    }

    private static string Value(string line) => line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
}
