using System.CommandLine;

namespace SegSharp.Cli;

/// <summary>The <c>segsharp</c> command tree. Commands parse, load config, call the library and print.</summary>
public static class CommandLine
{
    public static RootCommand Build()
    {
        var root = new RootCommand("SegSharp: semantic image segmentation for .NET on TorchSharp.");
        root.Subcommands.Add(TrainCommand.Build());
        root.Subcommands.Add(EvaluateCommand.Build());
        root.Subcommands.Add(PredictCommand.Build());
        root.Subcommands.Add(ExportCommand.Build());
        root.Subcommands.Add(QuantizeCommand.Build());
        root.Subcommands.Add(ConfigCommands.Build());
        root.Subcommands.Add(DataCommands.Build());
        root.Subcommands.Add(InfoCommand.Build());
        root.Subcommands.Add(ServeCommand.Build());
        root.Subcommands.Add(ZooCommand.Build());
        root.Options.Add(new Option<bool>(VerboseOption)
        {
            Description = "Also show libtorch's own log lines (warnings such as NNPACK's), which are hidden by default.",
            Recursive = true,
        });
        return root;
    }

    /// <summary>--verbose, accepted by every command.</summary>
    public const string VerboseOption = "--verbose";

    /// <summary>--config FILE: a YAML recipe; without it the embedded default.</summary>
    public static Option<string?> ConfigOption() => new("--config", "-c") { Description = "Config YAML (default: the embedded default recipe)." };

    /// <summary>--set key.path=value, repeatable.</summary>
    public static Option<string[]> SetOption() => new("--set", "-s")
    {
        Description = "Override a config value, e.g. --set optimizer.lr=0.01 (repeatable).",
        DefaultValueFactory = _ => Array.Empty<string>(),
        AllowMultipleArgumentsPerToken = false,
    };

    /// <summary>Exit code of bad input: a config key, a dataset file, an option (the message names it and the fix).</summary>
    public const int BadInput = 2;

    /// <summary>Exit code of a failing environment: disk full, permission denied, a read-only or vanished folder.</summary>
    public const int EnvironmentFailure = 3;

    /// <summary>Exit code of an interrupted (checkpointed, resumable) run: 128 + SIGINT.</summary>
    public const int Interrupted = 130;

    /// <summary>
    /// Runs a command body, turning a <see cref="SegSharpException"/> into one line on stderr and exit code 2, and a
    /// file-system failure into one line and exit code 3: never a stack trace.
    /// </summary>
    /// <param name="again">How to carry on once the cause is fixed (predict's outputs guard refuses a plain rerun: it says --resume).</param>
    public static int Guard(Func<int> body, string again = "run the same command again")
    {
        try
        {
            return body();
        }
        catch (SegSharpException e)
        {
            Console.Error.WriteLine($"{ErrorPrefix}{e.Message}");
            return BadInput;
        }
        catch (Exception e) when (FileSystemFailure(e) is { } failure)
        {
            // Every file SegSharp writes is published by rename, so what was there before is intact.
            Console.Error.WriteLine($"{ErrorPrefix}file system: {failure.Message.TrimEnd('.')}. Nothing written before was lost (writes are atomic); " +
                $"fix the cause (space, permissions, path) and {again}.");
            return EnvironmentFailure;
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("interrupted.");
            return Interrupted;
        }
    }

    /// <summary>"error: ", or under mpirun "error (rank 1 of 4): ", so a line says which process it came from.</summary>
    public static string ErrorPrefix => Runtime.OpenMpi.LaunchedAs is var (rank, size) ? $"error (rank {rank} of {size}): " : "error: ";

    /// <summary>The I/O or permission error inside <paramref name="e"/> (also when a background write wrapped it), or null.</summary>
    private static Exception? FileSystemFailure(Exception e) => e switch
    {
        IOException or UnauthorizedAccessException => e,
        AggregateException { InnerExceptions.Count: 1 } a => FileSystemFailure(a.InnerExceptions[0]),
        _ => null,
    };
}
