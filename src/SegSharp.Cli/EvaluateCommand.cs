using System.CommandLine;
using System.Globalization;
using SegSharp.Foundation;
using SegSharp.Workflows;

namespace SegSharp.Cli;

/// <summary><c>segsharp evaluate --checkpoint &lt;ckpt&gt;</c>: metrics, pictures and an HTML report.</summary>
public static class EvaluateCommand
{
    public static Command Build()
    {
        var command = new Command("evaluate", "Evaluate a checkpoint: metrics.json, per-class CSV, confusion matrix, overlays, curves and report.html.");
        var checkpoint = new Option<string>("--checkpoint") { Description = "A .ckpt file (e.g. runs/default/checkpoints/best.ckpt).", Required = true };
        var data = new Option<string?>("--data") { Description = "Dataset description YAML to evaluate on (default: the one the model was trained on)." };
        var split = new Option<string>("--split") { Description = $"{OptionNames<EvaluationSplit>.Choices}.", DefaultValueFactory = _ => "val" };
        split.AcceptOnlyFromAmong(OptionNames<EvaluationSplit>.All.ToArray());
        var output = new Option<string?>("--output", "-o") { Description = "Report folder (default: <run>/report, or ./report)." };
        var sets = CommandLine.SetOption();
        var overwrite = new Option<bool>("--overwrite")
        {
            Description = "Write into an --output folder that holds files (the run's own report/ is always updated).",
        };
        foreach (var option in new Option[] { checkpoint, data, split, output, sets, overwrite }) command.Options.Add(option);
        command.SetAction(parse => CommandLine.Guard(() =>
        {
            EvaluationSummary summary = null!;
            Terminal.Run("evaluating", 1, _ => summary = EvaluationWorkflow.Run(parse.GetValue(checkpoint)!, parse.GetValue(data),
                OptionNames<EvaluationSplit>.Parse(parse.GetValue(split)!, "--split"), parse.GetValue(output), parse.GetValue(sets),
                parse.GetValue(overwrite)));
            Print(summary);
            return 0;
        }));
        return command;
    }

    public static void Print(EvaluationSummary summary)
    {
        var outcome = summary.Outcome;
        var m = outcome.Result.Metrics;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"evaluation ({outcome.Split}, {outcome.Result.Images.Count} images): mIoU {m.MeanIoU:F4}  mDice {m.MeanDice:F4}  pixel accuracy " +
                $"{m.PixelAccuracy:F4}"));
        foreach (var c in m.PerClass)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {c.Name}: IoU {c.IoU?.ToString("F4", CultureInfo.InvariantCulture) ?? "excluded"}  Dice " +
                    $"{c.Dice?.ToString("F4", CultureInfo.InvariantCulture) ?? "excluded"}"));
        Console.WriteLine($"report: {summary.ReportPath}");
    }
}
