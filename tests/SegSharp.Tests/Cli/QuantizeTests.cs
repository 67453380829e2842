using System.Text.Json;
using MyApp;
using SegSharp.Data;
using SegSharp.Tests.Training;
using SegSharp.Workflows;
using Xunit.Abstractions;

namespace SegSharp.Tests.Cli;

/// <summary>
/// The deployment path end to end on a tiny model: export, evaluate the ONNX file, quantise it to INT8 (calibrated and
/// gated), evaluate, predict with and serve the INT8 file, each step's numbers checked against the step before; and every
/// bad input to <c>segsharp quantize</c> a one-line exit 2 that leaves nothing behind.
/// </summary>
[Collection("training")]
[Trait("Tier", "EndToEnd")]
public sealed class QuantizeTests(ITestOutputHelper output)
{
    /// <summary>A tiny U-Net trained long enough to segment the shapes (validation mIoU about 0.47 in 10 s), exported.</summary>
    private static readonly Lazy<(string Checkpoint, string Onnx)> Trained = new(() =>
    {
        string run = TestPaths.TempFolder("quantize-run");
        TinyRun.Train(run, null, default, "model.width=8", "train.epochs=8", "train.iters_per_epoch=8", "train.batch_size=4");
        string checkpoint = Path.Combine(run, "checkpoints", "best.ckpt"), onnx = Path.Combine(run, "model.onnx");
        ExportWorkflow.Run(checkpoint, ExportFormat.Onnx, onnx);
        return (checkpoint, onnx);
    });

    [Fact]
    public async Task An_exported_model_quantises_evaluates_predicts_and_serves_as_int8()
    {
        string root = TestPaths.TempFolder("quantize");
        var (checkpoint, onnx) = Trained.Value;
        string int8 = Path.Combine(root, "model.int8.onnx");
        var quantize = CliProcess.Run(new[] { "quantize", "--model", onnx, "--calibration", ShapesDataset.Spec, "--images", "8", "--output", int8,
            "--threads", "1" });
        Assert.True(quantize.Code == 0, quantize.Error);
        output.WriteLine(quantize.Out);
        Assert.Matches(@"^quantize: mIoU float 0\.\d{4}, int8 0\.\d{4} \([+-]\d+\.\d\d points, limit -1\); latency float \d+\.\d ms, int8 \d+\.\d ms per image",
            quantize.Out);
        using var report = JsonDocument.Parse(File.ReadAllText(QuantizationWorkflow.ReportPath(int8)));
        var gate = report.RootElement;
        Assert.Equal((8, true), (gate.GetProperty("calibration_images").GetInt32(), gate.GetProperty("passed").GetBoolean()));

        // The gate's numbers are what evaluate reports: the float file scores its checkpoint's mIoU (float32 near-ties aside),
        // the INT8 file exactly the gate's INT8 mIoU.
        double Evaluate(string model, string folder, params string[] extra)
        {
            var run = CliProcess.Run(new[] { "evaluate", "--data", ShapesDataset.Spec, "--output", Path.Combine(root, folder) }.Concat(extra)
                .Concat(model.EndsWith(".ckpt", StringComparison.Ordinal) ? new[] { "--checkpoint", model } : new[] { "--model", model }));
            Assert.True(run.Code == 0, run.Error);
            using var metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(root, folder, "metrics.json")));
            return metrics.RootElement.GetProperty("mean_iou").GetDouble();
        }
        double checkpointIoU = Evaluate(checkpoint, "eval-ckpt", "--set", "evaluation.precision=float32");
        Assert.Equal(checkpointIoU, gate.GetProperty("float_mean_iou").GetDouble(), 3);
        Assert.Equal(gate.GetProperty("int8_mean_iou").GetDouble(), Evaluate(int8, "eval-int8"), 12);
        Assert.True(gate.GetProperty("drop_points").GetDouble() <= 1.0);

        // predict and serve run the INT8 file like any other: the served mask is predict's.
        string images = Path.Combine(root, "images");
        Directory.CreateDirectory(images);
        byte[] picture = ServeTests.Picture(Path.Combine(images, "disc.png"), 64, 48);
        var predicted = CliProcess.Run(new[] { "predict", "--model", int8, "-i", images, "-o", Path.Combine(root, "predicted"), "--threads", "1" });
        Assert.True(predicted.Code == 0, predicted.Error);
        var expected = IndexedPng.Read(Path.Combine(root, "predicted", "masks", "disc.png"));
        var fromFloat = CliProcess.Run(new[] { "predict", "--model", onnx, "-i", images, "-o", Path.Combine(root, "predicted-float"), "--threads", "1" });
        Assert.True(fromFloat.Code == 0, fromFloat.Error);
        var floatMask = IndexedPng.Read(Path.Combine(root, "predicted-float", "masks", "disc.png"));
        double agreement = expected.Indices.Zip(floatMask.Indices).Count(p => p.First == p.Second) / (double)expected.Indices.Length;
        output.WriteLine($"INT8 and float masks agree on {agreement:P2} of pixels");
        Assert.True(agreement >= 0.95, $"INT8 and float masks agree on {agreement:P2} of pixels");
        int port = ServeTests.FreePort();
        using var server = ServeTests.Start(int8, port, "--threads", "1");
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = TimeSpan.FromSeconds(60) };
            await ServeTests.WaitUntilHealthy(http, server);
            var served = IndexedPng.Read(await new SegSharpClient(http).MaskAsync(picture));
            Assert.Equal(expected.Indices, served.Indices);
        }
        finally
        {
            if (!server.HasExited) server.Kill();
        }

        // Bad inputs: one line, exit 2, and nothing written (no output, no work folder, no temp file).
        string bad = Path.Combine(root, "bad");
        Directory.CreateDirectory(bad);
        string garbage = Path.Combine(bad, "garbage.onnx");
        File.WriteAllText(garbage, "not a model");
        string isbi = TestPaths.IsbiDescription;
        var cases = new (string[] Args, string Message)[]
        {
            (new[] { "--model", checkpoint }, $"error: quantize takes an ONNX model, not '{checkpoint}'; export it first"),
            (new[] { "--model", garbage }, $"error: Model '{garbage}' is not a usable ONNX file"),
            (new[] { "--model", int8 }, $"error: Model '{int8}' is quantised already; quantise the float model segsharp export wrote."),
            (new[] { "--model", onnx, "--calibration", isbi }, $"error: Dataset '{isbi}' has classes [membrane, cell] but the model predicts " +
                "[background, disc, square, triangle]; calibrate on a dataset with the model's classes in the same order."),
            (new[] { "--model", onnx, "--images", "0" }, "error: --images 0 is not valid; give 1 to 100000 calibration images (64 is usual)."),
        };
        foreach (var (args, message) in cases)
        {
            var argv = new[] { "quantize", "--output", Path.Combine(bad, "out.onnx") }.Concat(args).ToList();
            if (!args.Contains("--calibration")) argv.AddRange(new[] { "--calibration", ShapesDataset.Spec });
            var run = CliProcess.Run(argv);
            Assert.True(run.Code == 2, $"{string.Join(' ', args)}: exit {run.Code}: {run.Error}");
            Assert.StartsWith(message, run.Error.Trim(), StringComparison.Ordinal);
            Assert.Single(run.Error.Trim().Split('\n'));
        }
        var exists = CliProcess.Run(new[] { "quantize", "--model", onnx, "--calibration", ShapesDataset.Spec, "--output", int8 });
        Assert.Equal(2, exists.Code);
        Assert.Equal($"error: Output '{int8}' exists; pass --overwrite to replace it, or choose another --output.", exists.Error.Trim());
        Assert.Equal(new[] { "garbage.onnx" }, Directory.GetFileSystemEntries(bad).Select(Path.GetFileName));
        Assert.Empty(Directory.GetFileSystemEntries(root, ".*.work"));
    }

    [Fact]
    public void A_model_that_loses_more_than_the_allowed_drop_is_not_written()
    {
        string root = TestPaths.TempFolder("quantize-gate");
        string onnx = Trained.Value.Onnx, int8 = Path.Combine(root, "model.int8.onnx");
        // One calibration image whose ranges miss the others', and no loss allowed.
        var run = CliProcess.Run(new[] { "quantize", "--model", onnx, "--calibration", ShapesDataset.Spec, "--images", "1", "--max-drop", "0",
            "--output", int8 });
        output.WriteLine(run.Error);
        Assert.Equal(2, run.Code);
        Assert.Matches(@"^error: quantize: mIoU float 0\.\d{4}, int8 0\.\d{4} \(-\d+\.\d\d points, limit -0\); .*: the INT8 model loses more than " +
            @"--max-drop 0 points, so it was not written\.", run.Error.Trim());
        Assert.Single(run.Error.Trim().Split('\n'));
        Assert.False(File.Exists(int8));
        Assert.False(File.Exists(QuantizationWorkflow.ReportPath(int8)));
        Assert.Empty(Directory.GetFileSystemEntries(root));
    }
}
