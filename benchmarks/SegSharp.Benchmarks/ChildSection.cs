using System.Diagnostics;
using System.Text.Json;

namespace SegSharp.Benchmarks;

/// <summary>
/// Runs one benchmark section in a fresh process of this program, so its peak RSS is its own: in one long
/// process, memory an earlier section freed stays mapped by the allocator and inflates every later peak.
/// The child prints its result as one line <c>RESULT {json}</c> on stdout; its progress goes to stderr.
/// </summary>
public static class ChildSection
{
    private const string Marker = "RESULT ";
    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static T Run<T>(string section, int threads, bool quick)
    {
        var (exitCode, output) = RunForOutput(section, threads, quick, new Dictionary<string, string>());
        return Parse<T>(section, exitCode, output);
    }

    /// <summary>Runs <paramref name="section"/> with extra environment variables; returns its exit code and everything it wrote to stdout.</summary>
    public static (int ExitCode, string Output) RunForOutput(string section, int threads, bool quick, IReadOnlyDictionary<string, string> environment)
    {
        string self = Environment.ProcessPath ?? throw new InvalidOperationException("Cannot find this program's path to start a section.");
        var start = new ProcessStartInfo(self) { RedirectStandardOutput = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet") start.ArgumentList.Add(typeof(ChildSection).Assembly.Location);
        foreach (string a in new[] { "--section", section, "--threads",
            threads.ToString(System.Globalization.CultureInfo.InvariantCulture) }) start.ArgumentList.Add(a);
        if (quick) start.ArgumentList.Add("--quick");
        foreach (var (name, value) in environment) start.Environment[name] = value;
        using var process = Process.Start(start)!;
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output);
    }

    /// <summary>The result line of a finished section's output.</summary>
    public static T Parse<T>(string section, int exitCode, string output)
    {
        string? line = output.Split('\n').LastOrDefault(l => l.StartsWith(Marker, StringComparison.Ordinal));
        if (exitCode != 0 || line is null)
            throw new InvalidOperationException($"Benchmark section '{section}' failed (exit code {exitCode}); its output:\n{output}");
        return JsonSerializer.Deserialize<T>(line[Marker.Length..], Json)!;
    }

    /// <summary>In the child: prints the section's result for the parent.</summary>
    public static void Report<T>(T result) => Console.WriteLine(Marker + JsonSerializer.Serialize(result, Json));
}
