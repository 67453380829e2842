using SegSharp.Data;
using SegSharp.Tests.Training;

namespace SegSharp.Tests.Data;

/// <summary>
/// N-band images (dataset <c>channels: N</c>): files written by Debian's Pillow, not by SegSharp's own decoder library,
/// read back band by band to the exact stored values; band counts that do not add up are refused naming the file, what it
/// holds and the fix, by training, <c>data check</c> and prediction alike.
/// </summary>
public class MultiBandImageTests
{
    private static readonly Lazy<string> Files = new(WriteFiles);

    /// <summary>The value Pillow stored at band b, row y, column x (the script computes the same formula).</summary>
    private static int Stored(int band, int y, int x, int max) => (band * 7919 + y * 31 + x * 17) % (max + 1);

    private const int H = 5, W = 7;

    [Theory]
    [InlineData("pages16.tif", 5, 65535)]   // five 16-bit gray pages
    [InlineData("rgba.tif", 4, 255)]        // one RGBA page, LZW
    [InlineData("rgb_gray.tif", 4, 255)]    // an RGB page, then a gray page
    [InlineData("rgba.png", 4, 255)]
    [InlineData("gray_alpha.png", 2, 255)]
    [InlineData("gray3.tif", 3, 255)]       // three gray pages stack even where channels: 3 would convert one page
    public void Every_band_reads_back_as_stored(string file, int channels, int max)
    {
        var (pixels, height, width) = ImageFiles.ReadImage(Path.Combine(Files.Value, file), channels);
        Assert.Equal((H, W), (height, width));
        Assert.Equal(channels * H * W, pixels.Length);
        for (int b = 0; b < channels; b++)
            for (int y = 0; y < H; y++)
                for (int x = 0; x < W; x++)
                    Assert.Equal(Stored(b, y, x, max) / (float)max, pixels[(b * H + y) * W + x], 6);
    }

    [Fact]
    public void Bands_that_do_not_add_up_are_refused_naming_the_file_what_it_holds_and_the_fix()
    {
        string pages = Path.Combine(Files.Value, "pages16.tif");
        var error = Assert.Throws<SegSharpException>(() => ImageFiles.ReadImage(pages, 4));
        Assert.Equal($"Image '{pages}' has 5 bands (5 pages: 1 + 1 + 1 + 1 + 1) but the dataset's channels is 4. Store 4 bands per image " +
            "(gray+alpha PNG: 2, RGBA PNG or TIFF: 4, a multi-page TIFF: its pages' bands added up), or set channels: 5.", error.Message);
        string rgba = Path.Combine(Files.Value, "rgba.png");
        error = Assert.Throws<SegSharpException>(() => ImageFiles.ReadImage(rgba, 2, expected: ImageFiles.ModelChannels));
        Assert.StartsWith($"Image '{rgba}' has 4 bands (RGBA) but the model's input channels is 2.", error.Message);
        // One-page files still convert for 1 and 3 channels: RGBA drops its alpha, as before.
        var (rgb, _, _) = ImageFiles.ReadImage(rgba, 3);
        Assert.Equal(Stored(2, 4, 6, 255) / 255f, rgb[(2 * H + 4) * W + 6], 6);
    }

    [Fact]
    public void Data_check_reports_each_image_whose_bands_differ_and_channels_reach_64()
    {
        string root = TestPaths.TempFolder("bands-check");
        string yaml = DatasetFixture.Create(root, "classes: [a, b]\n", 3, (path, _) => DatasetFixture.WriteGray8(path, new int[H * W], H, W), H, W);
        File.WriteAllText(yaml, File.ReadAllText(yaml).Replace("channels: 1", "channels: 4"));
        foreach (int i in new[] { 0, 1 }) File.Copy(Path.Combine(Files.Value, "rgba.png"), Path.Combine(root, "images", $"{i}.png"), overwrite: true);
        var report = DatasetChecker.Check(DatasetDescription.Load(yaml));
        string wrong = Path.Combine(root, "images", "2.png");
        Assert.Equal($"Image '{wrong}' has 1 band (gray) but the dataset's channels is 4. Store 4 bands per image (gray+alpha PNG: 2, RGBA PNG or TIFF: 4, " +
            "a multi-page TIFF: its pages' bands added up), or set channels: 1.", Assert.Single(report.Errors));

        File.WriteAllText(yaml, File.ReadAllText(yaml).Replace("channels: 4", "channels: 64"));
        Assert.Equal(64, DatasetDescription.Load(yaml).Channels);
        File.WriteAllText(yaml, File.ReadAllText(yaml).Replace("channels: 64", "channels: 65"));
        var refused = Assert.Throws<SegSharp.Configuration.ConfigException>(() => DatasetDescription.Load(yaml));
        Assert.Contains("channels", refused.Message);
    }

    [Fact]
    public void A_normalize_step_of_other_length_than_the_channels_is_refused_before_training()
    {
        string root = TestPaths.TempFolder("bands-normalize");
        string yaml = DatasetFixture.Create(root, "classes: [a, b]\n", 4, (path, _) => DatasetFixture.WriteGray8(path, new int[16 * 16], 16, 16), 16, 16);
        var config = TinyRun.Config(Path.Combine(root, "run"), $"data.dataset={yaml}", "transforms.train=[]",
            "transforms.val=[{ name: normalize, mean: [0.5, 0.5, 0.5], std: [0.2] }]");
        var error = Assert.Throws<SegSharpException>(() => TinyRun.Trainer(config).Run());
        Assert.Equal($"transforms.val: normalize mean has 3 values but dataset '{yaml}' has channels: 1. Give one value.",
            error.Message);
    }

    private static string WriteFiles()
    {
        Prerequisite.PythonModules("python3-pil python3-numpy", "PIL", "numpy");
        string folder = TestPaths.TempFolder("bands");
        string script = $$"""
            import numpy as np
            from PIL import Image
            H, W = {{H}}, {{W}}
            def band(b, top):
                y, x = np.mgrid[0:H, 0:W]
                return (b * 7919 + y * 31 + x * 17) % (top + 1)
            pages = [Image.fromarray(band(b, 65535).astype(np.uint16)) for b in range(5)]
            pages[0].save('pages16.tif', save_all=True, append_images=pages[1:])
            rgba = np.stack([band(b, 255) for b in range(4)], -1).astype(np.uint8)
            Image.fromarray(rgba, 'RGBA').save('rgba.tif', compression='tiff_lzw')
            Image.fromarray(rgba, 'RGBA').save('rgba.png')
            Image.fromarray(np.stack([band(0, 255), band(1, 255)], -1).astype(np.uint8), 'LA').save('gray_alpha.png')
            rgb = Image.fromarray(rgba[..., :3], 'RGB')
            rgb.save('rgb_gray.tif', save_all=True, append_images=[Image.fromarray(band(3, 255).astype(np.uint8))])
            gray = [Image.fromarray(band(b, 255).astype(np.uint8)) for b in range(3)]
            gray[0].save('gray3.tif', save_all=True, append_images=gray[1:])
            """;
        ChildProcess.Run(Prerequisite.Python, folder, null, "-c", script);
        return folder;
    }
}
