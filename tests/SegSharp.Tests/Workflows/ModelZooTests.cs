using System.Globalization;
using System.Text.Json;
using SegSharp.Configuration;
using SegSharp.Tests.Training;
using SegSharp.Workflows;

namespace SegSharp.Tests.Workflows;

/// <summary>
/// The model zoo page is written from run folders: a recipe trained (with its final report) appears with the figures of
/// that run's own files, budget included; a recipe without a run is listed as not measured with its command.
/// </summary>
[Collection("training")]
[Trait("Tier", "EndToEnd")]
public class ModelZooTests
{
    [Fact]
    public void The_page_carries_each_measured_runs_own_figures_and_lists_the_unmeasured_recipes()
    {
        string root = TestPaths.TempFolder("zoo");
        string configs = Path.Combine(root, "configs"), runs = Path.Combine(root, "runs");
        Directory.CreateDirectory(configs);
        File.WriteAllText(Path.Combine(configs, "tiny.yaml"), "model: { name: unet, depth: 2, width: 4 }\ntrain: { epochs: 2, iters_per_epoch: 3, " +
            "batch_size: 2, accumulate: 2, val_batch_size: 4, threads: 2 }\ndata: { workers: 1 }\n");
        File.WriteAllText(Path.Combine(configs, "later.yaml"), "model: { name: fpn, encoder: resnet18 }\n");
        File.WriteAllText(Path.Combine(configs, "shapes.dataset.yaml"), "classes: [a, b]\n");   // a dataset description, not a recipe
        var config = SegSharpConfig.Load(Path.Combine(configs, "tiny.yaml"), new[] { $"output.dir={Path.Combine(runs, "tiny")}" });
        var outcome = TrainingWorkflow.Run(config, new[] { new RecordingHook() });

        string page = Path.Combine(root, "model-zoo.md");
        var entries = ModelZoo.Write(configs, runs, page);
        Assert.Equal(new[] { "later", "tiny" }, entries.Select(e => e.Recipe));
        Assert.Null(entries[0].Run);
        var run = entries[1].Run!;
        using var metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(runs, "tiny", "report", "metrics.json")));
        Assert.Equal(metrics.RootElement.GetProperty("mean_iou").GetDouble(), run.MeanIoU);
        Assert.Equal(outcome.Evaluation!.Outcome.Result.Metrics.MeanDice, run.MeanDice, 12);
        Assert.Equal(2L * 3 * 2 * 2, run.ImagesSeen);   // epochs x steps x batch x accumulation
        Assert.Equal(("unet", "from scratch", "shapes"), (run.Model, run.Weights, run.Dataset));

        string text = File.ReadAllText(page);
        var invariant = CultureInfo.InvariantCulture;
        Assert.Contains($"| `tiny` | unet | none (depth 2, width 4) | from scratch | shapes | 24 | {run.TrainMinutes.ToString("F1", invariant)} | " +
            $"{run.MeanIoU.ToString("F4", invariant)} | {run.MeanDice.ToString("F4", invariant)} | {run.PixelAccuracy.ToString("F4", invariant)} |", text);
        Assert.Contains("| `later` | not measured |", text);
        Assert.Contains("**mIoU is macro**", text);
        Assert.DoesNotContain("shapes.dataset", text);
        foreach (var (name, iou) in run.ClassIoU) Assert.Contains(name, text);
        Assert.Contains(string.Join(" | ", run.ClassIoU.Select(c => c.IoU!.Value.ToString("F4", invariant))), text);
    }
}
