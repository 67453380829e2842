using SegSharp.Data;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace SegSharp.Tests.Data;

/// <summary>An interrupted copy decodes as black rows or class 0 without a word; SegSharp refuses it by name instead.</summary>
public class ImageIntegrityTests
{
    private static byte[] Encoded(string format)
    {
        using var image = new Image<Rgb24>(64, 48);
        var random = new Random(3);
        for (int y = 0; y < 48; y++)
            for (int x = 0; x < 64; x++)
                image[x, y] = new Rgb24((byte)random.Next(256), (byte)random.Next(256), (byte)(x * 4));
        using var stream = new MemoryStream();
        switch (format)
        {
            case "png": image.SaveAsPng(stream); break;
            case "jpg": image.SaveAsJpeg(stream); break;
            case "tif": image.SaveAsTiff(stream); break;
            case "bmp": image.SaveAsBmp(stream); break;
        }
        return stream.ToArray();
    }

    public static TheoryData<string, double> Cuts => new()
    {
        { "png", 0.5 }, { "png", 0.7 }, { "png", 0.9 }, { "png", 0.999 },
        { "jpg", 0.5 }, { "jpg", 0.9 }, { "tif", 0.5 }, { "tif", 0.9 }, { "bmp", 0.5 }, { "bmp", 0.9 },
    };

    [Theory]
    [MemberData(nameof(Cuts))]
    public void A_file_cut_short_is_found_and_the_whole_file_passes(string format, double kept)
    {
        byte[] whole = Encoded(format);
        Assert.Null(ImageIntegrity.Problem(whole));
        var cut = whole.AsSpan(0, (int)(whole.Length * kept)).ToArray();
        Assert.StartsWith("truncated: ", ImageIntegrity.Problem(cut));
    }

    [Fact]
    public void A_flipped_byte_inside_png_image_data_is_a_crc_mismatch()
    {
        byte[] bytes = Encoded("png");
        bytes[bytes.Length / 2] ^= 0x40;
        Assert.Matches(@"^corrupt: CRC mismatch in chunk IDAT at byte \d+$", ImageIntegrity.Problem(bytes));
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(0.7)]
    [InlineData(0.9)]
    public void Truncated_real_isbi_files_are_refused_by_name_in_check_train_and_predict(double kept)
    {
        string root = TestPaths.TempFolder("truncated");
        string yaml = DatasetFixture.Create(root, "mask_encoding: values\nclasses:\n  - { name: membrane, value: 0 }\n  - { name: cell, value: 255 }\n", 2,
            (path, _) => { }, 512, 512);
        foreach (int i in new[] { 0, 1 })
        {
            File.Copy(Path.Combine(TestPaths.Isbi, "image", $"{i}.png"), Path.Combine(root, "images", $"{i}.png"), overwrite: true);
            File.Copy(Path.Combine(TestPaths.Isbi, "label", $"{i}.png"), Path.Combine(root, "masks", $"{i}.png"), overwrite: true);
        }
        string mask = Path.Combine(root, "masks", "1.png"), image = Path.Combine(root, "images", "0.png");
        foreach (var file in new[] { mask, image })
        {
            var bytes = File.ReadAllBytes(file);
            File.WriteAllBytes(file, bytes.AsSpan(0, (int)(bytes.Length * kept)).ToArray());
        }
        // ImageSharp decodes the cut image (its data spans many IDAT chunks) without complaint: the check is what
        // stands between it and training.
        using (var silently = Image.Load<L8>(image)) Assert.Equal(512, silently.Height);

        var report = DatasetChecker.Check(DatasetDescription.Load(yaml));
        Assert.Contains(report.Errors, e => e.StartsWith($"Mask '{mask}' is damaged (truncated: ", StringComparison.Ordinal));
        Assert.Contains(report.Errors, e => e.StartsWith($"Image '{image}' is damaged (truncated: ", StringComparison.Ordinal));

        var dataset = new FolderDataset(DatasetDescription.Load(yaml));
        var error = Assert.Throws<SegSharpException>(() => dataset.Load(1));
        Assert.EndsWith("Copy it again from its source, or remove it.", error.Message);
        Assert.Throws<SegSharpException>(() => ImageFiles.ReadImage(image, 1));
    }
}
