using System.Diagnostics;

namespace SegSharp.Tests;

/// <summary>
/// Runs a program to completion for a test (dotnet pack, jupyter, an installed tool) and fails the test, with its
/// output, on a non-zero exit.
/// </summary>
public static class ChildProcess
{
    /// <returns>Standard output.</returns>
    public static string Run(string file, string directory, IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        var info = new ProcessStartInfo(file) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) info.ArgumentList.Add(a);
        info.Environment["CI"] = "true";
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) info.Environment[key] = value;
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        string stderr = process.StandardError.ReadToEnd();
        if (!process.WaitForExit(TimeSpan.FromMinutes(10))) process.Kill(entireProcessTree: true);
        string tail = stderr[^Math.Min(stderr.Length, 4000)..];
        Assert.True(process.ExitCode == 0, $"{file} {string.Join(' ', args)} failed ({process.ExitCode}):\n{stdout.Result}\n{tail}");
        return stdout.Result;
    }
}
