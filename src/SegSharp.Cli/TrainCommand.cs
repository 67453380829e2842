using System.CommandLine;
using System.Runtime.InteropServices;
using SegSharp.Configuration;
using SegSharp.Training;
using Spectre.Console;

namespace SegSharp.Cli;

/// <summary><c>segsharp train</c>: trains, then evaluates the best checkpoint on the validation split.</summary>
public static class TrainCommand
{
    public static Command Build()
    {
        var command = new Command("train", "Train a model (the embedded default without --config), then evaluate it. Resumes automatically from the run directory's last checkpoint.");
        var config = CommandLine.ConfigOption();
        var sets = CommandLine.SetOption();
        var resume = new Option<string?>("--resume") { Description = "Resume the run in this directory, with the config saved there." };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "Plain progress lines, no live bars." };
        var noEvaluate = new Option<bool>("--no-evaluate") { Description = "Skip the evaluation report after training." };
        command.Options.Add(config);
        command.Options.Add(sets);
        command.Options.Add(resume);
        command.Options.Add(quiet);
        command.Options.Add(noEvaluate);
        command.SetAction(parse => CommandLine.Guard(() =>
        {
            string? resumeDirectory = parse.GetValue(resume);
            var overrides = parse.GetValue(sets)!.ToList();
            string? configPath = parse.GetValue(config);
            if (resumeDirectory is not null)
            {
                configPath = Path.Combine(resumeDirectory, "config.yaml");
                if (!File.Exists(configPath))
                    throw new SegSharpException($"--resume '{resumeDirectory}' has no config.yaml; it is not a SegSharp run directory.");
                overrides.Add($"output.dir={Path.GetFullPath(resumeDirectory)}");
            }
            var loaded = SegSharpConfig.Load(configPath, overrides);
            var result = Train(loaded, parse.GetValue(quiet));
            if (result.Interrupted) return 130;
            Console.WriteLine($"weights sha256: {result.WeightsHash}");
            if (!parse.GetValue(noEvaluate)) return EvaluateCommand.Report(result.Run.Checkpoints.BestPath, result.Run.ReportDirectory, "val");
            return 0;
        }));
        return command;
    }

    public static TrainingResult Train(SegSharpConfig config, bool quiet)
    {
        using var stop = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            e.Cancel = true;
            Console.Error.WriteLine("stopping after this step (checkpointing)...");
            stop.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true;
            stop.Cancel();
        });
        try
        {
            if (quiet || !Terminal.Interactive) return new Trainer(config, new ConsoleTrainingObserver(null)).Run(stop.Token);
            TrainingResult result = null!;
            AnsiConsole.Progress().AutoClear(true)
                .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                .Start(context => result = new Trainer(config, new ConsoleTrainingObserver(context)).Run(stop.Token));
            return result;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }
}
