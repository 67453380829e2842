using System.Text.Json;
using SegSharp.Cli;
using SegSharp.Data;
using SegSharp.Inference;
using SegSharp.Training;

namespace SegSharp.Tests.Training;

/// <summary>
/// A one-minute U-Net run on the real ISBI 2012 membrane data, then `segsharp evaluate` and `segsharp predict` on
/// its checkpoint. The run must beat the all-one-class baselines by a wide margin.
/// </summary>
[Collection("training")]
[Trait("Tier", "EndToEnd")]
public class IsbiEndToEndTests
{
    private static readonly string[] Short =
    {
        "model.width=16", "train.epochs=6", "train.iters_per_epoch=15", "train.val_every=2", "transforms.train[1].size=[192, 192]",
        "schedule.warmup_iters=10", "optimizer.lr=0.003", "train.checkpoint_every=0",
    };

    [Fact]
    public void Short_isbi_run_learns_then_evaluate_and_predict_write_their_files()
    {
        string folder = TestPaths.TempFolder("isbi");
        var config = SegSharp.Configuration.SegSharpConfig.Load(TestPaths.Config("isbi-unet.yaml"), Short.Append($"output.dir={folder}").ToList());
        var result = TinyRun.Trainer(config).Run();

        // Baselines from the validation masks alone: predicting "cell" everywhere, or "membrane" everywhere.
        var dataset = new FolderDataset(DatasetDescription.Load(TestPaths.IsbiDescription));
        var validation = DatasetSplit.Create(dataset).Validation;
        long membrane = 0, cell = 0;
        for (int i = 0; i < validation.Count; i++)
            foreach (int v in validation.Load(i).Mask) { if (v == 0) membrane++; else cell++; }
        double allCellDice = 2.0 * cell / (cell + membrane + cell);
        double allMembraneDice = 2.0 * membrane / (membrane + cell + membrane);
        double bestBaselineMeanDice = Math.Max(allCellDice, allMembraneDice) / 2;

        var final = result.State.History[^1];
        Assert.True(final.MeanDice > bestBaselineMeanDice + 0.25, $"mean Dice {final.MeanDice} vs baseline {bestBaselineMeanDice}");
        Assert.True(final.ClassDice![1] > allCellDice + 0.02, $"cell Dice {final.ClassDice[1]} vs all-cell {allCellDice}");
        Assert.True(final.ClassDice![0] > 0.5, $"membrane Dice {final.ClassDice[0]}");
        Assert.True(final.PixelAccuracy > 0.85, $"pixel accuracy {final.PixelAccuracy}");

        var run = result.Run;
        foreach (var file in new[] { "config.yaml", "environment.json", "dataset.json", "metrics.jsonl", "metrics.csv", "summary.json" })
            Assert.True(File.Exists(run.File(file)), file);
        Assert.NotEmpty(Directory.GetFiles(run.TensorBoardDirectory, "events.out.tfevents.*"));
        var dataJson = JsonDocument.Parse(File.ReadAllText(run.File("dataset.json"))).RootElement;
        Assert.Equal(64, dataJson.GetProperty("content_sha256").GetString()!.Length);

        // evaluate
        string report = Path.Combine(folder, "evaluation");
        int code = CommandLine.Build().Parse(new[] { "evaluate", "--checkpoint", run.Checkpoints.BestPath, "--output", report }).Invoke();
        Assert.Equal(0, code);
        foreach (var file in new[] { "metrics.json", "per_class.csv", "confusion.png", "loss.png", "miou.png", "lr.png", "report.html" })
            Assert.True(File.Exists(Path.Combine(report, file)), file);
        Assert.Equal(6, Directory.GetFiles(Path.Combine(report, "overlays"), "*.png").Length);
        var metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(report, "metrics.json"))).RootElement;
        Assert.Equal(6, metrics.GetProperty("images").GetInt32());
        Assert.Equal(6L * 512 * 512, metrics.GetProperty("pixels").GetInt64());
        string html = File.ReadAllText(Path.Combine(report, "report.html"));
        Assert.Contains("data:image/png;base64,", html);
        Assert.DoesNotContain("src=\"http", html);
        Assert.Contains("membrane", html);

        // predict
        string input = TestPaths.TempFolder("predict-in"), output = TestPaths.TempFolder("predict-out");
        File.Copy(Path.Combine(TestPaths.Isbi, "image", "3.png"), Path.Combine(input, "3.png"));
        File.WriteAllText(Path.Combine(input, "broken.png"), "not an image");
        code = CommandLine.Build().Parse(new[] { "predict", "--checkpoint", run.Checkpoints.BestPath, "--input", input, "--output", output, "--tile",
            "256" }).Invoke();
        Assert.Equal(1, code); // one file skipped, the other still written
        var (indices, h, w) = IndexedPng.Read(Path.Combine(output, "masks", "3.png"));
        Assert.Equal((512, 512), (h, w));
        Assert.Equal(new byte[] { 0, 1 }, indices.Distinct().Order().ToArray());
        Assert.True(File.Exists(Path.Combine(output, "overlays", "3.png")));
        Assert.False(File.Exists(Path.Combine(output, "masks", "broken.png")));
    }
}
