using SegSharp.Data;
using SegSharp.Tests.Data;
using SegSharp.Tests.Training;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace SegSharp.Tests.Cli;

/// <summary>
/// A 4-band dataset (RGB plus a band only the target shows in, as a near-infrared band would) end to end: the U-Net
/// on ML.NET's pretrained encoder trains on it, the checkpoint and its ONNX export predict the same masks, and an RGB
/// image given to the 4-band model is skipped with the reason.
/// </summary>
[Collection("training")]
[Trait("Tier", "EndToEnd")]
public class MultiBandTrainingTests
{
    private const int Size = 48;

    [Fact]
    public void A_four_band_dataset_trains_the_pretrained_unet_and_its_onnx_export_predicts_the_checkpoints_masks()
    {
        string root = TestPaths.TempFolder("four-bands");
        string yaml = Dataset(Path.Combine(root, "data"), count: 6);
        var config = TinyRun.Config(Path.Combine(root, "run"), $"data.dataset={yaml}", "model.name=unet", "model.encoder=mlnet-resnet18",
            "model.encoder_weights=pretrained", "transforms.train=[]", "transforms.val=[]", "train.epochs=1", "train.iters_per_epoch=2");
        var result = TinyRun.Trainer(config).Run();
        string checkpoint = result.Run.File(Path.Combine("checkpoints", "best.ckpt"));
        using (var trained = SegSharp.Inference.TrainedModel.Load(checkpoint))
        {
            Assert.Equal(4, trained.Card.InputChannels);
            Assert.Equal(new long[] { 64, 4, 7, 7 }, trained.Model.state_dict().Single(kv => kv.Key.EndsWith("_stem.0.weight", StringComparison.Ordinal))
                .Value.shape);
        }

        string onnx = Path.Combine(root, "model.onnx");
        var export = CliProcess.Run(new[] { "export", "--checkpoint", checkpoint, "--format", "onnx", "-o", onnx });
        Assert.True(export.Code == 0, export.Error);
        string images = Path.Combine(root, "data", "images");
        var fromCheckpoint = CliProcess.Run(new[] { "predict", "--checkpoint", checkpoint, "-i", images, "-o", Path.Combine(root, "ckpt"),
            "--precision", "float32" });
        Assert.True(fromCheckpoint.Code == 0, fromCheckpoint.Error);
        var fromOnnx = CliProcess.Run(new[] { "predict", "--model", onnx, "-i", images, "-o", Path.Combine(root, "onnx") });
        Assert.True(fromOnnx.Code == 0, fromOnnx.Error);
        long pixels = 0, same = 0;
        foreach (string mask in Directory.GetFiles(Path.Combine(root, "ckpt", "masks")))
        {
            var expected = IndexedPng.Read(mask).Indices;
            var actual = IndexedPng.Read(Path.Combine(root, "onnx", "masks", Path.GetFileName(mask))).Indices;
            pixels += expected.Length;
            same += expected.Zip(actual).Count(p => p.First == p.Second);
        }
        Assert.Equal(6L * Size * Size, pixels);
        Assert.True(same >= 0.9999 * pixels, $"masks agree on {same} of {pixels} pixels");

        string rgbFolder = Path.Combine(root, "rgb");
        Directory.CreateDirectory(rgbFolder);
        string rgb = Path.Combine(rgbFolder, "photo.png");
        DatasetFixture.WriteRgb(rgb, new int[Size * Size], Size, Size);
        var refused = CliProcess.Run(new[] { "predict", "--model", onnx, "-i", rgbFolder, "-o", Path.Combine(root, "refused") });
        // predict goes on past an unreadable image and exits 1 (some images skipped), naming each with the reason.
        Assert.Equal(1, refused.Code);
        Assert.Contains($"skipped: Image '{rgb}' has 3 bands (RGB) but the model's input channels is 4. Store 4 bands per image", refused.Error);
        Assert.EndsWith("or use a model trained on 3-band images.", refused.Error.Trim());
    }

    /// <summary>RGBA PNGs whose fourth band alone shows the target (a disc); the masks mark the disc as class 1.</summary>
    private static string Dataset(string root, int count)
    {
        Directory.CreateDirectory(Path.Combine(root, "images"));
        Directory.CreateDirectory(Path.Combine(root, "masks"));
        for (int i = 0; i < count; i++)
        {
            using var image = new Image<Rgba32>(Size, Size);
            var mask = new int[Size * Size];
            double cx = 12 + 4 * i, cy = 30 - 3 * i;
            for (int y = 0; y < Size; y++)
                for (int x = 0; x < Size; x++)
                {
                    bool disc = (x - cx) * (x - cx) + (y - cy) * (y - cy) < 100;
                    mask[y * Size + x] = disc ? 1 : 0;
                    image[x, y] = new Rgba32((byte)(x * 5), (byte)(y * 5), (byte)((x + y + 17 * i) % 256), (byte)(disc ? 230 : 20));
                }
            image.SaveAsPng(Path.Combine(root, "images", $"{i}.png"));
            DatasetFixture.WriteGray8(Path.Combine(root, "masks", $"{i}.png"), mask, Size, Size);
        }
        string path = Path.Combine(root, "dataset.yaml");
        File.WriteAllText(path, "name: four-bands\nchannels: 4\nclasses: [background, target]\nsplit: { method: ratio, val_fraction: 0.34 }\n");
        return path;
    }
}
