using System.CommandLine;
using SegSharp.Configuration;

namespace SegSharp.Cli;

/// <summary><c>segsharp config show</c>: prints the effective config after defaults and overrides.</summary>
public static class ConfigCommands
{
    public static Command Build()
    {
        var config = new Command("config", "Inspect configuration.");
        var show = new Command("show", "Print the effective config (defaults filled in, overrides applied).");
        var file = CommandLine.ConfigOption();
        var sets = CommandLine.SetOption();
        show.Options.Add(file);
        show.Options.Add(sets);
        show.SetAction(parse => CommandLine.Guard(() =>
        {
            var loaded = SegSharpConfig.Load(parse.GetValue(file), parse.GetValue(sets));
            Console.Out.Write($"# source: {loaded.Source}\n{loaded.EffectiveYaml}");
            return 0;
        }));
        config.Subcommands.Add(show);
        return config;
    }
}
