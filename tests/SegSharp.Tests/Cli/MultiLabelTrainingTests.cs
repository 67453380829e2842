using System.Text.Json;
using SegSharp.Data;
using SegSharp.Inference;
using SegSharp.Tests.Data;
using SegSharp.Tests.Training;
using SegSharp.Workflows;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace SegSharp.Tests.Cli;

/// <summary>
/// Multilabel end to end on overlapping shapes: training with sigmoid BCE + Dice, evaluation with per-class counts, ONNX
/// export carrying the task and threshold, and prediction through the checkpoint and the ONNX file writing one mask per
/// class that agree with each other and with the model's own decision.
/// </summary>
[Collection("training")]
[Trait("Tier", "EndToEnd")]
public class MultiLabelTrainingTests
{
    private const int Size = 40;
    private static readonly string[] Classes = { "disc", "square" };

    [Fact]
    public void A_multilabel_model_trains_evaluates_exports_and_predicts_one_mask_per_class()
    {
        string root = TestPaths.TempFolder("multilabel-e2e");
        string yaml = Dataset(Path.Combine(root, "data"), 8);
        var config = TinyRun.Config(Path.Combine(root, "run"), $"data.dataset={yaml}", "transforms.train=[{ name: hflip }]", "transforms.val=[]",
            "model.width=8", "train.epochs=4", "train.iters_per_epoch=6", "evaluation.threshold=0.4", "optimizer.lr=0.01");
        var result = TinyRun.Trainer(config).Run();
        string checkpoint = result.Run.File(Path.Combine("checkpoints", "best.ckpt"));
        using (var trained = TrainedModel.Load(checkpoint))
            Assert.Equal((SegmentationTask.Multilabel, 0.4), (trained.Card.Task, trained.Card.Threshold));

        var evaluation = EvaluationWorkflow.Run(checkpoint, yaml, EvaluationSplit.Validation, Path.Combine(root, "eval"),
            new[] { "evaluation.precision=float32" });
        var metrics = evaluation.Outcome.Result.Metrics;
        Assert.True(metrics.MultiLabel);
        Assert.True(metrics.MeanIoU > 0.3, $"mean IoU {metrics.MeanIoU} after training on shapes this plain");
        using (var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(root, "eval", "metrics.json"))))
        {
            Assert.Equal("multilabel", json.RootElement.GetProperty("task").GetString());
            var perClass = json.RootElement.GetProperty("per_class");
            Assert.Equal(Classes, perClass.EnumerateArray().Select(c => c.GetProperty("name").GetString()));
            foreach (var c in perClass.EnumerateArray())
                Assert.Equal(metrics.Pixels, new[] { "true_positives", "false_positives", "false_negatives", "true_negatives" }
                    .Sum(k => c.GetProperty(k).GetInt64()));
        }
        Assert.False(File.Exists(Path.Combine(root, "eval", "confusion.png")));
        Assert.Contains("Per-class counts", File.ReadAllText(Path.Combine(root, "eval", "report.html")));

        string onnx = Path.Combine(root, "model.onnx");
        ExportWorkflow.Run(checkpoint, ExportFormat.Onnx, onnx);
        var fromOnnx = EvaluationWorkflow.Run(onnx, yaml, EvaluationSplit.Validation, Path.Combine(root, "eval-onnx"));
        for (int c = 0; c < Classes.Length; c++)
        {
            var (a, b) = (metrics.PerClass[c], fromOnnx.Outcome.Result.Metrics.PerClass[c]);
            Assert.True(Math.Abs(a.TruePositives - b.TruePositives) + Math.Abs(a.FalsePositives - b.FalsePositives) <= metrics.Pixels / 1000,
                $"{Classes[c]}: checkpoint {a} vs ONNX {b}");
        }

        string images = Path.Combine(root, "data", "images");
        var ckpt = CliProcess.Run(new[] { "predict", "--checkpoint", checkpoint, "-i", images, "-o", Path.Combine(root, "p-ckpt"), "--precision",
            "float32" });
        Assert.True(ckpt.Code == 0, ckpt.Error);
        var viaOnnx = CliProcess.Run(new[] { "predict", "--model", onnx, "-i", images, "-o", Path.Combine(root, "p-onnx") });
        Assert.True(viaOnnx.Code == 0, viaOnnx.Error);
        long pixels = 0, same = 0, present = 0;
        foreach (string name in Classes)
        {
            foreach (string mask in Directory.GetFiles(Path.Combine(root, "p-ckpt", "masks", name)))
            {
                var (expected, _, _) = ImageFiles.ReadMaskValues(mask, rgb: false, palette: false);
                var (actual, _, _) = ImageFiles.ReadMaskValues(Path.Combine(root, "p-onnx", "masks", name, Path.GetFileName(mask)), false, false);
                Assert.All(expected, v => Assert.True(v is 0 or 255));
                pixels += expected.Length;
                present += expected.Count(v => v == 255);
                same += expected.Zip(actual).Count(p => p.First == p.Second);
            }
        }
        Assert.Equal(2L * 8 * Size * Size, pixels);
        Assert.True(present > 0 && present < pixels, "masks should hold both present and absent pixels");
        Assert.True(same >= 0.9999 * pixels, $"masks agree on {same} of {pixels} pixels");
        Assert.Equal(8, Directory.GetFiles(Path.Combine(root, "p-onnx", "overlays")).Length);
        Assert.False(File.Exists(Path.Combine(root, "p-onnx", "masks", "0.png")));
    }

    /// <summary>A disc (red) and a square (blue) that overlap in some images (purple where both are), with a mask folder per class.</summary>
    private static string Dataset(string root, int count)
    {
        Directory.CreateDirectory(Path.Combine(root, "images"));
        foreach (string name in Classes) Directory.CreateDirectory(Path.Combine(root, "masks", name));
        for (int i = 0; i < count; i++)
        {
            using var image = new Image<Rgb24>(Size, Size);
            var disc = new int[Size * Size];
            var square = new int[Size * Size];
            int cx = 12 + 2 * i, cy = 20, left = 16 + i, top = 8 + i;
            for (int y = 0; y < Size; y++)
                for (int x = 0; x < Size; x++)
                {
                    bool inDisc = (x - cx) * (x - cx) + (y - cy) * (y - cy) < 81, inSquare = x >= left && x < left + 14 && y >= top && y < top + 14;
                    disc[y * Size + x] = inDisc ? 255 : 0;
                    square[y * Size + x] = inSquare ? 255 : 0;
                    image[x, y] = new Rgb24((byte)(inDisc ? 220 : 30), (byte)(40 + (x + y) % 20), (byte)(inSquare ? 220 : 30));
                }
            image.SaveAsPng(Path.Combine(root, "images", $"{i}.png"));
            DatasetFixture.WriteGray8(Path.Combine(root, "masks", "disc", $"{i}.png"), disc, Size, Size);
            DatasetFixture.WriteGray8(Path.Combine(root, "masks", "square", $"{i}.png"), square, Size, Size);
        }
        string path = Path.Combine(root, "dataset.yaml");
        File.WriteAllText(path, "name: overlapping-shapes\nchannels: 3\ntask: multilabel\nclasses: [disc, square]\n" +
            "split: { method: ratio, val_fraction: 0.25 }\n");
        return path;
    }
}
