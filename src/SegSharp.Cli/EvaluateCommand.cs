using System.CommandLine;
using System.Globalization;
using SegSharp.Configuration;
using SegSharp.Data;
using SegSharp.Evaluation;
using SegSharp.Inference;
using SegSharp.Losses;

namespace SegSharp.Cli;

/// <summary><c>segsharp evaluate --checkpoint &lt;ckpt&gt;</c>: metrics, pictures and an HTML report.</summary>
public static class EvaluateCommand
{
    public static Command Build()
    {
        var command = new Command("evaluate", "Evaluate a checkpoint: metrics.json, per-class CSV, confusion matrix, overlays, curves and report.html.");
        var checkpoint = new Option<string>("--checkpoint") { Description = "A .ckpt file (e.g. runs/default/checkpoints/best.ckpt).", Required = true };
        var data = new Option<string?>("--data") { Description = "Dataset description YAML to evaluate on (default: the one the model was trained on)." };
        var split = new Option<string>("--split") { Description = "val, train or all.", DefaultValueFactory = _ => "val" };
        split.AcceptOnlyFromAmong("val", "train", "all");
        var output = new Option<string?>("--output", "-o") { Description = "Report folder (default: <run>/report, or ./report)." };
        var sets = CommandLine.SetOption();
        command.Options.Add(checkpoint);
        command.Options.Add(data);
        command.Options.Add(split);
        command.Options.Add(output);
        command.Options.Add(sets);
        command.SetAction(parse => CommandLine.Guard(() =>
        {
            using var trained = TrainedModel.Load(parse.GetValue(checkpoint)!, parse.GetValue(data));
            string folder = parse.GetValue(output) ?? trained.Run?.ReportDirectory ?? Path.GetFullPath("report");
            return Report(trained, folder, parse.GetValue(split)!, parse.GetValue(sets)!);
        }));
        return command;
    }

    /// <summary>Evaluates the checkpoint at <paramref name="checkpoint"/> after training.</summary>
    public static int Report(string checkpoint, string folder, string split)
    {
        using var trained = TrainedModel.Load(checkpoint);
        return Report(trained, folder, split, Array.Empty<string>());
    }

    private static int Report(TrainedModel trained, string folder, string splitName, IReadOnlyList<string> overrides)
    {
        var config = overrides.Count == 0 ? trained.Config : SegSharpConfig.Parse(trained.State.ConfigYaml, "checkpoint", Directory.GetCurrentDirectory(), overrides);
        var dataset = DatasetFactory.Open(config.Data.Dataset);
        var split = DatasetSplit.Create(dataset);
        ISegmentationDataset chosen = splitName switch
        {
            "train" => split.Train,
            "all" => dataset,
            _ => split.Validation,
        };
        if (chosen.Count == 0) throw new SegSharpException($"Split '{splitName}' of '{dataset.Description.Name}' is empty; choose --split all.");
        var loss = WeightedLoss.Create(config.Loss, dataset.Description.IgnoreIndex);
        EvaluationOutcome outcome = null!;
        Terminal.Run($"evaluating {chosen.Count} images", 1, _ =>
            outcome = Evaluator.Run(trained.Model, chosen, splitName, config.ValidationTransforms, config.Evaluation, loss, config.Train.ValidationBatchSize, config.Data.Workers));
        var history = trained.Run?.ReadMetrics() ?? Array.Empty<Training.EpochRecord>();
        string report = EvaluationReport.Write(folder, outcome, history, $"SegSharp evaluation: {dataset.Description.Name}", trained.CheckpointPath);
        var m = outcome.Result.Metrics;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"evaluation ({splitName}, {outcome.Result.Images.Count} images): mIoU {m.MeanIoU:F4}  mDice {m.MeanDice:F4}  pixel accuracy {m.PixelAccuracy:F4}"));
        foreach (var c in m.PerClass)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {c.Name}: IoU {c.IoU?.ToString("F4", CultureInfo.InvariantCulture) ?? "excluded"}  Dice {c.Dice?.ToString("F4", CultureInfo.InvariantCulture) ?? "excluded"}"));
        Console.WriteLine($"report: {report}");
        return 0;
    }
}
