using Spectre.Console;
using Spectre.Console.Rendering;

namespace SegSharp.Cli;

/// <summary>Rich output on an interactive terminal, plain lines otherwise (pipes, CI, --quiet).</summary>
public static class Terminal
{
    public static bool Interactive => !Console.IsOutputRedirected && Environment.GetEnvironmentVariable("CI") is null or "" or "false";

    /// <summary>Runs <paramref name="work"/> with a progress bar of <paramref name="total"/> steps when interactive.</summary>
    public static void Run(string label, int total, Action<IProgress<int>> work)
    {
        if (!Interactive)
        {
            work(new Progress<int>(_ => { }));
            return;
        }
        AnsiConsole.Progress().Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(context =>
            {
                var task = context.AddTask(label, maxValue: Math.Max(1, total));
                work(new SynchronousProgress(done => task.Value = done));
            });
    }

    public static void Write(IRenderable rich, string plain)
    {
        if (Interactive) AnsiConsole.Write(rich);
        else Console.WriteLine(plain);
    }

    private sealed class SynchronousProgress(Action<int> report) : IProgress<int>
    {
        public void Report(int value) => report(value);
    }
}
