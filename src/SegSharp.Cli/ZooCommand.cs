using System.CommandLine;
using SegSharp.Workflows;

namespace SegSharp.Cli;

/// <summary><c>segsharp zoo</c>: rewrites docs/model-zoo.md from the recipes and the run folders trained from them.</summary>
public static class ZooCommand
{
    public static Command Build()
    {
        var command = new Command("zoo", "Rewrite the model zoo page from the run folders of the recipes in configs/ (figures from the runs' own files).");
        var configs = new Option<string>("--configs") { Description = "The recipes' folder.", DefaultValueFactory = _ => "configs" };
        var runs = new Option<string>("--runs") { Description = "Where each recipe's run is, as RUNS/<recipe>.", DefaultValueFactory = _ => "runs/zoo" };
        var output = new Option<string>("--output", "-o") { Description = "The page to write.", DefaultValueFactory = _ => "docs/model-zoo.md" };
        foreach (var option in new Option[] { configs, runs, output }) command.Options.Add(option);
        command.SetAction(parse => CommandLine.Guard(() =>
        {
            string page = parse.GetValue(output)!;
            var entries = ModelZoo.Write(parse.GetValue(configs)!, parse.GetValue(runs)!, page);
            foreach (var e in entries)
                Console.WriteLine(e.Run is { } r
                    ? $"{e.Recipe}: mIoU {r.MeanIoU:F4}, mean Dice {r.MeanDice:F4}, {r.ImagesSeen:N0} images in {r.TrainMinutes:F1} min"
                    : $"{e.Recipe}: not measured ({e.Command})");
            Console.WriteLine($"zoo: {entries.Count(e => e.Run is not null)} of {entries.Count} recipes measured -> {page}");
            return 0;
        }));
        return command;
    }
}
