using System.Security.Cryptography;
using System.Text;
using SegSharp.Configuration;
using SegSharp.Data;
using SegSharp.Inference;
using SegSharp.Tests.Training;
using SegSharp.Training;
using SegSharp.Workflows;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace SegSharp.Tests.Workflows;

/// <summary>
/// A checkpoint is a model file that stands alone: copied elsewhere, with its training data renamed away, it
/// predicts and evaluates exactly as it did in place; and files of the older format still load while their data exists.
/// </summary>
[Collection("training")]
[Trait("Tier", "EndToEnd")]
public class StandaloneModelTests
{
    private static readonly Lazy<(string Data, string Run)> Trained = new(TrainOnAFolderDataset);

    [Fact]
    public void A_copied_checkpoint_predicts_and_evaluates_the_same_after_the_training_data_is_moved()
    {
        var (data, run) = Trained.Value;
        string best = new RunDirectory(run).Checkpoints.BestPath;
        string inputs = TestPaths.TempFolder("standalone-inputs");
        foreach (int i in new[] { 0, 5, 11 }) File.Copy(Path.Combine(data, "images", $"{i}.png"), Path.Combine(inputs, $"{i}.png"));
        var masksBefore = Predict(best, inputs);
        var before = EvaluationWorkflow.Run(best, Path.Combine(data, "dataset.yaml"), EvaluationSplit.All, TestPaths.TempFolder("eval-before"));

        string elsewhere = Path.Combine(TestPaths.TempFolder("model-elsewhere"), "model.ckpt");
        File.Copy(best, elsewhere);
        string moved = data + "-moved";
        Directory.Move(data, moved);
        try
        {
            var masksAfter = Predict(elsewhere, inputs);
            Assert.Equal(masksBefore.Keys.Order(), masksAfter.Keys.Order());
            foreach (var (name, mask) in masksBefore) Assert.Equal(mask, masksAfter[name]);
            Assert.Contains(masksBefore.Values, m => m.Distinct().Count() > 1); // the model predicts more than one class

            var after = EvaluationWorkflow.Run(elsewhere, Path.Combine(moved, "dataset.yaml"), EvaluationSplit.All, TestPaths.TempFolder("eval-after"));
            Assert.Equal(before.Outcome.Result.Metrics.Confusion, after.Outcome.Result.Metrics.Confusion);
            Assert.Equal(before.Outcome.Result.Metrics.MeanIoU, after.Outcome.Result.Metrics.MeanIoU);

            // Without --data, evaluation needs the training dataset's validation split, and says so.
            var error = Assert.Throws<SegSharpException>(() => EvaluationWorkflow.Run(elsewhere));
            Assert.Contains("is gone", error.Message);
            Assert.Contains("--data", error.Message);
        }
        finally
        {
            Directory.Move(moved, data);
        }
    }

    [Fact]
    public void Predict_keeps_same_stem_inputs_apart_and_refuses_to_overwrite_without_the_flag()
    {
        var (data, run) = Trained.Value;
        string best = new RunDirectory(run).Checkpoints.BestPath;
        string inputs = TestPaths.TempFolder("same-stem");
        File.Copy(Path.Combine(data, "images", "1.png"), Path.Combine(inputs, "a.png"));
        using (var image = Image.Load(Path.Combine(data, "images", "2.png"))) image.SaveAsBmp(Path.Combine(inputs, "a.bmp"));
        File.Copy(Path.Combine(data, "images", "3.png"), Path.Combine(inputs, "b.png"));
        string output = TestPaths.TempFolder("same-stem-out");
        var first = Predict(best, inputs, output);
        Assert.Equal(new[] { "a.bmp.png", "a.png.png", "b.png" }, first.Keys.Order(StringComparer.Ordinal));
        Assert.NotEqual(first["a.png.png"], first["a.bmp.png"]); // two different images, two masks

        // Each mask equals predicting that file alone (the folder run must not mix up which image it decoded).
        foreach (var (file, name) in new[] { ("a.png", "a.png.png"), ("a.bmp", "a.bmp.png"), ("b.png", "b.png") })
        {
            using var alone = PredictionWorkflow.Open(best, Path.Combine(inputs, file), TestPaths.TempFolder("alone"));
            Assert.Equal(first[name], IndexedPng.Read(alone.Run().Single().MaskPath!).Indices);
        }

        var error = Assert.Throws<SegSharpException>(() => PredictionWorkflow.Open(best, inputs, output));
        Assert.Matches(@"^Output '.*' exists \(and 5 more\); pass --resume to keep finished outputs and predict the rest, --overwrite to replace " +
            @"them, or choose another --output\.$", error.Message);
        using var again = PredictionWorkflow.Open(best, inputs, output, overwrite: true);
        Assert.Equal(3, again.Run().Count(r => r.Error is null));
    }

    [Fact]
    public void The_model_card_carries_classes_colours_preprocessing_and_version()
    {
        var (_, run) = Trained.Value;
        var card = Checkpoint.Parse(File.ReadAllBytes(new RunDirectory(run).Checkpoints.BestPath)).Card!;
        Assert.Equal(new[] { "background", "disc", "square", "triangle" }, card.Classes.Select(c => c.Name));
        Assert.Equal(new[] { 0, 1, 2, 3 }, card.Classes.Select(c => c.Value));
        Assert.Equal(ClassPalette.Default(2).Select(b => (int)b), card.Classes[2].Color);
        Assert.Equal(3, card.InputChannels);
        Assert.Equal(255, card.IgnoreIndex);
        var normalize = Assert.IsType<NormalizeSpec>(Assert.Single(card.Preprocessing));
        Assert.Equal(new[] { 0.4 }, normalize.Mean);
        Assert.Equal(new[] { 0.3 }, normalize.Std);
        Assert.Equal(4, card.Stride); // depth 2
        Assert.StartsWith("0.", card.SegSharpVersion, StringComparison.Ordinal);
    }

    [Fact]
    public void A_format_1_checkpoint_loads_while_its_dataset_exists_and_says_what_to_do_when_it_is_gone()
    {
        var (data, run) = Trained.Value;
        var contents = Checkpoint.Parse(File.ReadAllBytes(new RunDirectory(run).Checkpoints.BestPath));
        string old = Path.Combine(TestPaths.TempFolder("format1"), "old.ckpt");
        File.WriteAllBytes(old, Version1Bytes(contents));

        using (var loaded = TrainedModel.Load(old))
        {
            Assert.Equal(4, loaded.Card.ClassCount);
            Assert.Equal(Checkpoint.WeightsHash(loaded.Model), WeightsHashOf(run));
        }
        string moved = data + "-gone";
        Directory.Move(data, moved);
        try
        {
            var error = Assert.Throws<SegSharpException>(() => TrainedModel.Load(old));
            Assert.Contains("was written before checkpoints carried their classes", error.Message);
            Assert.Contains("Put the dataset back", error.Message);
        }
        finally
        {
            Directory.Move(moved, data);
        }
    }

    private static string WeightsHashOf(string run)
    {
        using var model = TrainedModel.Load(new RunDirectory(run).Checkpoints.BestPath);
        return Checkpoint.WeightsHash(model.Model);
    }

    /// <summary>The layout of format 1, written here independently of the library: magic, state, model, optimiser, SHA-256.</summary>
    private static byte[] Version1Bytes(CheckpointContents contents)
    {
        using var body = new MemoryStream();
        body.Write(Encoding.ASCII.GetBytes("SEGSHARP-CKPT-1\n"));
        foreach (var section in new[] { System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(contents.State, Checkpoint.Json), contents.Model,
            contents.Optimizer })
        {
            body.Write(BitConverter.GetBytes((long)section.Length));
            body.Write(section);
        }
        body.Write(SHA256.HashData(body.ToArray()));
        return body.ToArray();
    }

    private static Dictionary<string, byte[]> Predict(string checkpoint, string inputs, string? output = null)
    {
        output ??= TestPaths.TempFolder("standalone-predict");
        using var job = PredictionWorkflow.Open(checkpoint, inputs, output);
        var results = job.Run().ToList();
        Assert.All(results, r => Assert.Null(r.Error));
        return results.ToDictionary(r => Path.GetFileName(r.MaskPath!), r => IndexedPng.Read(r.MaskPath!).Indices);
    }

    /// <summary>Writes 24 of the built-in shapes as PNG files with a dataset YAML, and trains a tiny U-Net on them.</summary>
    private static (string Data, string Run) TrainOnAFolderDataset()
    {
        string data = Path.Combine(TestPaths.TempFolder("standalone"), "data");
        Directory.CreateDirectory(Path.Combine(data, "images"));
        Directory.CreateDirectory(Path.Combine(data, "masks"));
        var shapes = new ShapesDataset(count: 24, size: 48);
        for (int i = 0; i < shapes.Count; i++)
        {
            var sample = shapes.Load(i);
            int plane = sample.Height * sample.Width;
            using var image = new Image<Rgb24>(sample.Width, sample.Height);
            for (int p = 0; p < plane; p++)
                image[p % sample.Width, p / sample.Width] = new Rgb24(Byte(sample.Image[p]), Byte(sample.Image[plane + p]), Byte(sample.Image[2 * plane + p]));
            image.SaveAsPng(Path.Combine(data, "images", $"{i}.png"));
            SegSharp.Tests.Data.DatasetFixture.WriteGray8(Path.Combine(data, "masks", $"{i}.png"), sample.Mask, sample.Height, sample.Width);
        }
        File.WriteAllText(Path.Combine(data, "dataset.yaml"),
            "name: shapes-files\nroot: .\nchannels: 3\nmask_encoding: index\nclasses:\n  - { name: background }\n  - { name: disc }\n  - { name: square }\n  " +
                "- { name: triangle }\nsplit: { method: ratio, val_fraction: 0.25 }\n");
        string run = TestPaths.TempFolder("standalone-run");
        var config = TinyRun.Config(run, $"data.dataset={Path.Combine(data, "dataset.yaml")}", "model.width=8", "train.epochs=3",
            "train.iters_per_epoch=10", "optimizer.lr=0.01",
            "transforms.train=[{ name: hflip, p: 0.5 }, { name: normalize, mean: [0.4], std: [0.3] }]",
            "transforms.val=[{ name: normalize, mean: [0.4], std: [0.3] }]");
        var result = TinyRun.Trainer(config).Run();
        Assert.True(File.Exists(result.Run.Checkpoints.BestPath));
        return (data, run);
    }

    private static byte Byte(float value) => (byte)Math.Clamp(MathF.Round(value * 255f), 0, 255);
}
