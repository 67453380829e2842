using System.Globalization;
using System.Text;
using System.Text.Json;
using SegSharp.Configuration;
using SegSharp.Foundation;
using SegSharp.Training;

namespace SegSharp.Workflows;

/// <summary>
/// docs/model-zoo.md from run folders, never from typed figures: for every recipe in the configs folder (a training config,
/// not a dataset description), the run <c>RUNS/&lt;recipe&gt;</c> trained from it gives the model, encoder and starting
/// weights (its config.yaml), the budget (images seen, training minutes: summary.json), the machine (environment.json),
/// and the validation figures of its best checkpoint (report/metrics.json): macro mean IoU, mean Dice, pixel accuracy and
/// every class's IoU. Recipes without a finished run are listed as not measured, with the command that measures them.
/// </summary>
public static class ModelZoo
{
    /// <summary>One recipe's line in the page; <see cref="Run"/> is null when it has not been measured.</summary>
    public sealed record Entry(string Recipe, string Command, MeasuredRun? Run);

    /// <summary>What a finished run folder says.</summary>
    public sealed record MeasuredRun(string Model, string Encoder, string Weights, string Dataset, long ImagesSeen, int Epochs, double TrainMinutes,
        double MeanIoU, double MeanDice, double PixelAccuracy, IReadOnlyList<(string Name, double? IoU)> ClassIoU, string Cpu, int Threads,
        string Precision, DateTime Finished);

    /// <summary>The recipes of <paramref name="configs"/> with their runs under <paramref name="runs"/>, in file-name order.</summary>
    public static IReadOnlyList<Entry> Collect(string configs, string runs)
    {
        if (!Directory.Exists(configs)) throw new SegSharpException($"Configs folder '{configs}' does not exist. Pass --configs with the recipes' folder.");
        return Directory.GetFiles(configs, "*.yaml").Where(f => !f.EndsWith(".dataset.yaml", StringComparison.Ordinal)).Order(StringComparer.Ordinal)
            .Select(file =>
            {
                string recipe = Path.GetFileNameWithoutExtension(file);
                string folder = Path.Combine(runs, recipe);
                string command = $"./segsharp train --config {Relative(file)} --set output.dir={Relative(folder)}";
                return new Entry(recipe, command, Read(folder));
            }).ToList();
    }

    /// <summary>Writes the page (atomically) and returns its entries.</summary>
    public static IReadOnlyList<Entry> Write(string configs, string runs, string output)
    {
        var entries = Collect(configs, runs);
        AtomicFile.WriteAllText(output, Markdown(entries, runs));
        return entries;
    }

    private static MeasuredRun? Read(string folder)
    {
        if (!RunDirectory.IsRun(folder)) return null;
        var run = new RunDirectory(folder, create: false);
        var summary = run.ReadSummary();
        string metricsPath = Path.Combine(run.ReportDirectory, "metrics.json");
        if (summary is not { Finished: true } || !File.Exists(metricsPath)) return null;
        string yaml = File.ReadAllText(run.ConfigPath);
        var config = SegSharpConfig.ParseStored(yaml, run.ConfigPath, folder, SegSharpConfig.IsStoredFormat1(yaml));
        var environment = run.ReadEnvironment()?.Environment;
        using var metrics = JsonDocument.Parse(File.ReadAllText(metricsPath));
        var root = metrics.RootElement;
        var model = config.Model;
        bool encoder = model.HasEncoder;
        string weights = !encoder ? "from scratch"
            : model.EncoderWeights is null ? "encoder from scratch"
            : model.EncoderWeights == Models.MlnetResNet18Weights.PretrainedKeyword ? "ImageNet (ML.NET's ResNet-18)"
            : $"encoder from {Path.GetFileName(model.EncoderWeights)}";
        return new MeasuredRun(
            OptionNames<ModelKind>.Name(model.Kind),
            encoder ? OptionNames<EncoderKind>.Name(model.Encoder) : $"none (depth {model.Depth}, width {model.Width})",
            weights,
            root.GetProperty("dataset").GetString() ?? "",
            summary.Steps * config.Train.BatchSize * config.Train.Accumulate,
            summary.Epochs,
            summary.TrainSeconds / 60,
            root.GetProperty("mean_iou").GetDouble(),
            root.GetProperty("mean_dice").GetDouble(),
            root.GetProperty("pixel_accuracy").GetDouble(),
            root.GetProperty("per_class").EnumerateArray()
                .Select(c => (c.GetProperty("name").GetString() ?? "", c.GetProperty("iou").ValueKind == JsonValueKind.Number ? c.GetProperty("iou").GetDouble()
                    : (double?)null)).ToList(),
            environment?.Cpu ?? "unknown CPU",
            environment?.Threads ?? 0,
            root.GetProperty("precision").GetString() ?? "",
            File.GetLastWriteTimeUtc(run.SummaryPath));
    }

    private static string Markdown(IReadOnlyList<Entry> entries, string runs)
    {
        var invariant = CultureInfo.InvariantCulture;
        var page = new StringBuilder();
        page.Append("# Model zoo\n\n")
            .Append("Generated by `./segsharp zoo` from the run folders under `").Append(Relative(runs)).Append("`; do not edit by hand.\n")
            .Append("Every figure comes from a run's own files: the budget from `summary.json` (images seen = optimiser steps x batch\n")
            .Append("size x accumulation; minutes of training, validation included, without the final report), the machine from\n")
            .Append("`environment.json`, and the validation figures from the report of the run's best checkpoint (`report/metrics.json`).\n")
            .Append("**mIoU is macro**: the mean of the classes' IoU, each class counting once (classes absent from both truth and\n")
            .Append("prediction left out), not pixel-weighted.\n\n")
            .Append("To measure a recipe, run its command, then `./segsharp zoo` to rewrite this page.\n\n");
        page.Append("| recipe | model | encoder | starting weights | dataset | images seen | minutes | val mIoU (macro) | mean Dice | pixel accuracy |\n")
            .Append("|---|---|---|---|---|---:|---:|---:|---:|---:|\n");
        foreach (var e in entries)
        {
            if (e.Run is not { } r)
            {
                page.Append(invariant, $"| `{e.Recipe}` | not measured | | | | | | | | |\n");
                continue;
            }
            page.Append(invariant, $"| `{e.Recipe}` | {r.Model} | {r.Encoder} | {r.Weights} | {r.Dataset} | {r.ImagesSeen:N0} | {r.TrainMinutes:F1} | ")
                .Append(invariant, $"{r.MeanIoU:F4} | {r.MeanDice:F4} | {r.PixelAccuracy:F4} |\n");
        }
        foreach (var e in entries)
        {
            page.Append(invariant, $"\n## {e.Recipe}\n\n```\n{e.Command}\n```\n\n");
            if (e.Run is not { } r)
            {
                page.Append("Not measured yet: no finished run with a report in `").Append(Relative(Path.Combine(runs, e.Recipe))).Append("`.\n");
                continue;
            }
            page.Append(invariant, $"{r.Epochs} epochs, {r.ImagesSeen:N0} images seen in {r.TrainMinutes:F1} minutes on {r.Cpu} ({r.Threads} threads); ")
                .Append(invariant, $"evaluated in {r.Precision}; finished {r.Finished:yyyy-MM-dd}.\n\n");
            page.Append("| class | " + string.Join(" | ", r.ClassIoU.Select(c => c.Name)) + " |\n")
                .Append("|---|" + string.Concat(r.ClassIoU.Select(_ => "---:|")) + "\n")
                .Append("| IoU | " + string.Join(" | ", r.ClassIoU.Select(c => c.IoU is double v ? v.ToString("F4", invariant) : "excluded")) + " |\n");
        }
        return page.ToString();
    }

    /// <summary>A path as the reader types it: relative to the working directory when under it, with forward slashes.</summary>
    private static string Relative(string path)
    {
        string relative = Path.GetRelativePath(Directory.GetCurrentDirectory(), Path.GetFullPath(path));
        return (relative.StartsWith("..", StringComparison.Ordinal) ? Path.GetFullPath(path) : relative).Replace('\\', '/');
    }
}
