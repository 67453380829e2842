using System.CommandLine;
using System.Globalization;
using SegSharp.Foundation;
using SegSharp.Workflows;

namespace SegSharp.Cli;

/// <summary><c>segsharp evaluate --checkpoint &lt;ckpt&gt;</c> or <c>--model &lt;onnx&gt;</c>: metrics, pictures and an HTML report.</summary>
public static class EvaluateCommand
{
    public static Command Build()
    {
        var command = new Command("evaluate", "Evaluate a model: metrics.json, per-class CSV, confusion matrix, overlays, curves and report.html. " +
            "The model is a checkpoint or an exported ONNX file (run by ONNX Runtime: check the file you ship scores what its checkpoint scored).");
        var checkpoint = new Option<string?>("--checkpoint") { Description = "A .ckpt file (e.g. runs/default/checkpoints/best.ckpt)." };
        var model = new Option<string?>("--model", "-m") { Description = "A .ckpt, or a .onnx from 'segsharp export --format onnx' (needs --data)." };
        var data = new Option<string?>("--data") { Description = "Dataset description YAML to evaluate on (default: the one the model was trained on)." };
        var split = new Option<string>("--split") { Description = $"{OptionNames<EvaluationSplit>.Choices}.", DefaultValueFactory = _ => "val" };
        split.AcceptOnlyFromAmong(OptionNames<EvaluationSplit>.All.ToArray());
        var output = new Option<string?>("--output", "-o") { Description = "Report folder (default: <run>/report, or ./report)." };
        var sets = CommandLine.SetOption();
        var overwrite = new Option<bool>("--overwrite")
        {
            Description = "Write into an --output folder that holds files (the run's own report/ is always updated).",
        };
        foreach (var option in new Option[] { checkpoint, model, data, split, output, sets, overwrite }) command.Options.Add(option);
        command.SetAction(parse => CommandLine.Guard(() =>
        {
            string? checkpointPath = parse.GetValue(checkpoint), modelPath = parse.GetValue(model);
            if ((checkpointPath is null) == (modelPath is null))
                throw new SegSharpException("evaluate needs exactly one of --checkpoint FILE.ckpt or --model FILE (.ckpt or .onnx).");
            ReportedEvaluation summary = null!;
            Terminal.Run("evaluating", 1, _ => summary = EvaluationWorkflow.Run((checkpointPath ?? modelPath)!, parse.GetValue(data),
                OptionNames<EvaluationSplit>.Parse(parse.GetValue(split)!, "--split"), parse.GetValue(output), parse.GetValue(sets),
                parse.GetValue(overwrite)));
            Print(summary);
            return 0;
        }));
        return command;
    }

    public static void Print(ReportedEvaluation summary)
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
