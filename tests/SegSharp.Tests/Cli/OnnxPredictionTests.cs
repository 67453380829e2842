using SegSharp.Data;
using SegSharp.Models;
using SegSharp.Tests.Training;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace SegSharp.Tests.Cli;

/// <summary>
/// <c>segsharp export --format onnx</c> then <c>segsharp predict --model model.onnx</c>: the same masks as predicting
/// with the checkpoint (tiling and flip TTA included) on ≥ 99.99% of pixels, without loading libtorch.
/// </summary>
[Collection("training")]
[Trait("Tier", "EndToEnd")]
public class OnnxPredictionTests
{
    private static readonly Lazy<(string Checkpoint, string Onnx, string Images)> Exported = new(Export);

    [Theory]
    [InlineData("0", false, null)]
    [InlineData("40", true, null)]
    [InlineData("40", true, "0.75,1,1.25")]
    public void Predicting_with_the_onnx_file_gives_the_checkpoints_masks(string tile, bool tta, string? scales)
    {
        var (checkpoint, onnx, images) = Exported.Value;
        string folder = TestPaths.TempFolder("onnx-predict");
        var common = new List<string> { "-i", images, "--tile", tile, "--overlap", "0.3" };
        if (tta) common.AddRange(new[] { "--tta", "--threads", "1" });
        if (scales is not null) common.AddRange(new[] { "--scales", scales });
        var fromCheckpoint = CliProcess.Run(new[] { "predict", "--checkpoint", checkpoint, "-o", Path.Combine(folder, "ckpt"), "--precision", "float32" }
            .Concat(common));
        Assert.True(fromCheckpoint.Code == 0, fromCheckpoint.Error);
        // The dynamic loader lists every shared library it opens: libtorch must not be among them.
        // The multi-scale case also runs ONNX Runtime with basic graph optimisation only.
        string level = scales is null ? "all" : "basic";
        var fromOnnx = CliProcess.Run(new[] { "predict", "--model", onnx, "-o", Path.Combine(folder, "onnx"), "--graph-optimization", level }.Concat(common),
            new Dictionary<string, string> { ["LD_DEBUG"] = "files" });
        Assert.True(fromOnnx.Code == 0, fromOnnx.Error);
        Assert.Contains("libonnxruntime.so", fromOnnx.Error);
        Assert.DoesNotContain("libtorch", fromOnnx.Error);
        long pixels = 0, same = 0;
        foreach (string mask in Directory.GetFiles(Path.Combine(folder, "ckpt", "masks")))
        {
            var expected = IndexedPng.Read(mask);
            var actual = IndexedPng.Read(Path.Combine(folder, "onnx", "masks", Path.GetFileName(mask)));
            Assert.Equal((expected.Height, expected.Width), (actual.Height, actual.Width));
            pixels += expected.Indices.Length;
            same += expected.Indices.Zip(actual.Indices).Count(p => p.First == p.Second);
        }
        Assert.Equal(3 * 2, Directory.GetFiles(Path.Combine(folder, "onnx")!, "*.png", SearchOption.AllDirectories).Length);
        // Each output folder records how it was predicted.
        foreach (var (engine, run) in new[] { ("libtorch", "ckpt"), ("onnxruntime", "onnx") })
        {
            using var settings = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, run, "prediction.json")));
            var root = settings.RootElement;
            Assert.Equal(engine, root.GetProperty("engine").GetString());
            Assert.Equal((int.Parse(tile, System.Globalization.CultureInfo.InvariantCulture), tta, tta ? 1 : 0),
                (root.GetProperty("tile_size").GetInt32(), root.GetProperty("flip_tta").GetBoolean(), root.GetProperty("threads").GetInt32()));
            Assert.False(string.IsNullOrEmpty(root.GetProperty("engine_version").GetString()));
            Assert.Equal(engine == "libtorch" ? "n/a" : level, root.GetProperty("graph_optimization").GetString());
            // libtorch's layout: channels-last (auto) unless this CPU's kernels or the model's own check say otherwise, and why.
            string layout = root.GetProperty("memory_format").GetString()!;
            if (engine == "libtorch")
                Assert.Matches(@"^(channels_last \(1x1(, spatial)?(, transposed)? convolutions plain\)|contiguous \(auto: .+\))$", layout);
            else Assert.Equal("n/a", layout);
            // Multi-scale with flips: 3 scales x 3 flips = 9 passes over 0.5625 + 1 + 1.5625 times the pixels, x3.
            Assert.Equal(scales is null ? (tta ? 3 : 1, tta ? 3.0 : 1.0) : (9, 9.375),
                (root.GetProperty("tta_passes").GetInt32(), root.GetProperty("tta_work_factor").GetDouble()));
        }
        Assert.True(same >= 0.9999 * pixels, $"masks agree on {same} of {pixels} pixels");
    }

    [Fact]
    public void A_file_that_is_not_onnx_or_not_from_segsharp_is_refused_in_one_line()
    {
        var (_, onnx, images) = Exported.Value;
        string folder = TestPaths.TempFolder("onnx-bad");
        string garbage = Path.Combine(folder, "garbage.onnx");
        File.WriteAllText(garbage, "not a model");
        var (code, _, error) = CliProcess.Run(new[] { "predict", "--model", garbage, "-i", images, "-o", Path.Combine(folder, "out") });
        Assert.Equal(2, code);
        Assert.Contains($"Model '{garbage}' is not a usable ONNX file", error);
        Assert.Single(error.Trim().Split('\n'));

        // A valid ONNX file without SegSharp's metadata: drop the model card.
        var proto = Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(onnx));
        proto.MetadataProps.Clear();
        string foreign = Path.Combine(folder, "foreign.onnx");
        File.WriteAllBytes(foreign, Google.Protobuf.MessageExtensions.ToByteArray(proto));
        (code, _, error) = CliProcess.Run(new[] { "predict", "--model", foreign, "-i", images, "-o", Path.Combine(folder, "out") });
        Assert.Equal(2, code);
        Assert.Contains($"Model '{foreign}' was not written by segsharp export", error);

        (code, _, error) = CliProcess.Run(new[] { "predict", "--model", onnx, "--checkpoint", onnx, "-i", images, "-o", Path.Combine(folder, "out") });
        Assert.Equal(2, code);
        Assert.Contains("exactly one of --checkpoint", error);

        (code, _, error) = CliProcess.Run(new[] { "predict", "--model", onnx, "--threads", "-1", "-i", images, "-o", Path.Combine(folder, "out") });
        Assert.Equal(2, code);
        Assert.Contains("--threads -1 is not valid", error);
    }

    private static (string, string, string) Export()
    {
        string folder = TestPaths.TempFolder("onnx-export");
        var result = TinyRun.Train(Path.Combine(folder, "run"));
        string checkpoint = result.Run.File(Path.Combine("checkpoints", "best.ckpt"));
        string onnx = Path.Combine(folder, "model.onnx");
        var (code, stdout, error) = CliProcess.Run(new[] { "export", "--checkpoint", checkpoint, "--format", "onnx", "-o", onnx });
        Assert.True(code == 0, error);
        Assert.Contains($"-> {onnx}", stdout);
        // Three images of sizes that are not multiples of the stride, two larger than a tile: a dim gradient with a bright
        // disc, the kind of scene the tiny model was trained on, so its decisions are clear rather than coin flips.
        string images = Path.Combine(folder, "images");
        Directory.CreateDirectory(images);
        foreach (var (name, height, width) in new[] { ("a", 37, 29), ("b", 64, 96), ("c", 75, 51) })
        {
            using var image = new Image<Rgb24>(width, height);
            for (int y = 0; y < height; y++)
                for (int x = 0; x < width; x++)
                {
                    bool disc = Math.Pow(x - width / 2.0, 2) + Math.Pow(y - height / 3.0, 2) < Math.Pow(Math.Min(width, height) / 4.0, 2);
                    image[x, y] = disc ? new Rgb24(230, 200, 40) : new Rgb24((byte)(x * 60 / width), (byte)(y * 60 / height), 30);
                }
            image.SaveAsPng(Path.Combine(images, name + ".png"));
        }
        return (checkpoint, onnx, images);
    }
}
