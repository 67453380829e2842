using System.CommandLine;
using SegSharp.Configuration;

namespace SegSharp.Cli;

/// <summary><c>segsharp config show</c>: prints the effective config after defaults and overrides.</summary>
public static class ConfigCommands
{
    public static Command Build()
    {
        var config = new Command("config", "Inspect configuration.");
        var show = new Command("show",
            "Print the effective config (defaults filled in, base: recipes merged, overrides applied) and where each value came from.");
        var file = CommandLine.ConfigOption();
        var sets = CommandLine.SetOption();
        show.Options.Add(file);
        show.Options.Add(sets);
        show.SetAction(parse => CommandLine.Guard(() =>
        {
            var loaded = SegSharpConfig.Load(parse.GetValue(file), parse.GetValue(sets));
            Console.Out.Write($"# source: {loaded.Source}\n{loaded.EffectiveYaml}");
            // Where each value came from (a recipe, the recipe it inherits from through base:, --set); the rest are defaults.
            Console.Out.Write("# where the values came from (every other value is SegSharp's default):\n");
            foreach (var group in loaded.Origins.GroupBy(o => o.Value, o => o.Key).OrderBy(g => g.Key == "--set" ? 1 : 0))
                Console.Out.Write($"#   {Relative(group.Key)}: {string.Join(", ", group.Order(StringComparer.Ordinal))}\n");
            return 0;
        }));
        config.Subcommands.Add(show);
        return config;
    }

    private static string Relative(string origin) => Path.IsPathRooted(origin) ? Path.GetRelativePath(Directory.GetCurrentDirectory(), origin) : origin;
}
