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
        root.Subcommands.Add(ConfigCommands.Build());
        root.Subcommands.Add(DataCommands.Build());
        root.Subcommands.Add(InfoCommand.Build());
        return root;
    }

    /// <summary>--config FILE: a YAML recipe; without it the embedded default.</summary>
    public static Option<string?> ConfigOption() => new("--config", "-c") { Description = "Config YAML (default: the embedded default recipe)." };

    /// <summary>--set key.path=value, repeatable.</summary>
    public static Option<string[]> SetOption() => new("--set", "-s")
    {
        Description = "Override a config value, e.g. --set train.lr=0.01 (repeatable).",
        DefaultValueFactory = _ => Array.Empty<string>(),
        AllowMultipleArgumentsPerToken = false,
    };

    /// <summary>Runs a command body, turning a <see cref="SegSharpException"/> into one line on stderr and exit code 2.</summary>
    public static int Guard(Func<int> body)
    {
        try
        {
            return body();
        }
        catch (SegSharpException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 2;
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("interrupted.");
            return 130;
        }
    }
}
