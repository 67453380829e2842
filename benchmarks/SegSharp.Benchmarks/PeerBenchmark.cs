using System.Diagnostics;
using System.Globalization;

namespace SegSharp.Benchmarks;

/// <summary>
/// Runs a plain-PyTorch peer script from ../shared/peers (Debian's python3-torch 1.13) in the same window as the
/// benchmark, so side-by-side ratios compare figures from one machine and one run. Null when Python or the
/// script is missing, so the benchmark still runs elsewhere. The peer runs with glibc malloc's defaults (no huge pages).
/// </summary>
public static class PeerBenchmark
{
    private const string Marker = "images_per_second=";

    /// <returns>The script's images/s, or null.</returns>
    public static double? Run(string root, string script, params string[] arguments)
    {
        string path = Path.GetFullPath(Path.Combine(root, "..", "shared", "peers", script));
        if (!File.Exists(path) || !File.Exists("/usr/bin/python3")) return null;
        var start = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(path);
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        // Plain PyTorch runs with glibc's defaults: the benchmark process switched malloc's huge pages on for itself and
        // its SegSharp children, which the peer would otherwise inherit.
        if (Runtime.MallocHugePages.WithoutTunable(Environment.GetEnvironmentVariable("GLIBC_TUNABLES")) is { } others)
            start.Environment["GLIBC_TUNABLES"] = others;
        else start.Environment.Remove("GLIBC_TUNABLES");
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        string? line = output.Split('\n').LastOrDefault(l => l.StartsWith(Marker, StringComparison.Ordinal));
        if (process.ExitCode != 0 || line is null)
        {
            Console.Error.WriteLine($"peer {script} failed (exit {process.ExitCode}): {error.Result.Trim().Split('\n').LastOrDefault()}");
            return null;
        }
        return double.Parse(line[Marker.Length..], CultureInfo.InvariantCulture);
    }
}
