using System.CommandLine;
using System.Runtime.InteropServices;
using SegSharp.Configuration;
using SegSharp.Training;
using SegSharp.Workflows;
using Spectre.Console;

namespace SegSharp.Cli;

/// <summary><c>segsharp train</c>: trains, then evaluates the best checkpoint on the validation split.</summary>
public static class TrainCommand
{
    public static Command Build()
    {
        var command = new Command("train",
            "Train a model (the embedded default without --config), then evaluate it. Resumes automatically from the run directory's last checkpoint.");
        var config = CommandLine.ConfigOption();
        var sets = CommandLine.SetOption();
        var resume = new Option<string?>("--resume") { Description = "Resume the run in this directory, with the config saved there." };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "Plain progress lines, no live bars." };
        var noEvaluate = new Option<bool>("--no-evaluate") { Description = "Skip the evaluation report after training." };
        var allowDataChange = new Option<bool>("--allow-data-change")
        {
            Description = "Resume even if the dataset's files changed since the run started (recorded in the run's warnings.txt).",
        };
        command.Options.Add(config);
        command.Options.Add(sets);
        command.Options.Add(resume);
        command.Options.Add(quiet);
        command.Options.Add(noEvaluate);
        command.Options.Add(allowDataChange);
        command.SetAction(parse => Distributed.Run(collective => CommandLine.Guard(() =>
        {
            string? resumeDirectory = parse.GetValue(resume);
            var overrides = parse.GetValue(sets)!;
            if (resumeDirectory is not null && parse.GetValue(config) is not null)
                throw new SegSharpException($"--resume '{resumeDirectory}' continues with the config saved there; drop --config (or start a new run without " +
                    $"--resume).");
            var loaded = resumeDirectory is not null
                ? TrainingWorkflow.ResumeConfig(resumeDirectory, overrides)
                : SegSharpConfig.Load(parse.GetValue(config), overrides);
            var outcome = Train(loaded, parse.GetValue(quiet) || !collective.IsRoot, !parse.GetValue(noEvaluate), parse.GetValue(allowDataChange), collective);
            if (outcome.Training.Interrupted) return CommandLine.Interrupted;
            if (!collective.IsRoot) return 0;
            Console.WriteLine($"weights sha256: {outcome.Training.WeightsHash}");
            if (outcome.Evaluation is not null) EvaluateCommand.Print(outcome.Evaluation);
            return 0;
        })));
        return command;
    }

    /// <summary>Runs the training workflow with SIGINT/SIGTERM wired to a graceful stop and progress on the console.</summary>
    /// <param name="collective">The processes training together under mpirun; one process when null.</param>
    public static TrainAndEvaluateResult Train(SegSharpConfig config, bool quiet, bool evaluate, bool allowDataChange = false,
        Runtime.ICollective? collective = null)
    {
        using var stop = Interruption.Catch(collective is not { IsRoot: false } ? "stopping after this step (checkpointing)..." : null);
        // MLflow's environment variables are read here, at the edge: the library reads none.
        config = config with { Tracking = config.Tracking.WithEnvironment(Environment.GetEnvironmentVariable) };
        // Rank 0 speaks for the job.
        if (collective is { IsRoot: false })
            return TrainingWorkflow.Run(config, null, evaluate, allowDataChange: allowDataChange, collective: collective, stop: stop.Token);
        // mpirun forwards output line by line and cannot redraw a live bar: rank 0 prints a progress line now and then.
        bool underMpirun = collective is { Size: > 1 };
        if (quiet || !Terminal.Interactive || underMpirun)
            return TrainingWorkflow.Run(config, new[] { new ConsoleTrainingHook(null, underMpirun ? TimeSpan.FromSeconds(15) : null) }, evaluate,
                allowDataChange: allowDataChange, collective: collective,
                stop: stop.Token);
        TrainAndEvaluateResult outcome = null!;
        AnsiConsole.Progress().AutoClear(true)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(context => outcome = TrainingWorkflow.Run(config, new[] { new ConsoleTrainingHook(context) }, evaluate,
                allowDataChange: allowDataChange, collective: collective, stop: stop.Token));
        return outcome;
    }
}
