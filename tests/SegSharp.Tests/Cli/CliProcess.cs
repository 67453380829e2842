using System.Diagnostics;

namespace SegSharp.Tests.Cli;

/// <summary>Runs the built segsharp CLI as a child process (CI=true: plain output), for tests that need a real process.</summary>
public static class CliProcess
{
    public static (int Code, string Out, string Error) Run(IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "SegSharp.Cli.dll"));
        foreach (var a in args) info.ArgumentList.Add(a);
        info.Environment["CI"] = "true";
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) info.Environment[key] = value;
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        string stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout.Result, stderr);
    }

    /// <summary><c>train --quiet</c> with the tiny run's settings into <paramref name="outputDirectory"/>.</summary>
    public static List<string> TinyTrain(string outputDirectory, params string[] extra)
    {
        var args = new List<string> { "train", "--quiet" };
        foreach (var o in Training.TinyRun.Overrides.Append($"output.dir={outputDirectory}").Concat(extra)) { args.Add("--set"); args.Add(o); }
        return args;
    }
}
