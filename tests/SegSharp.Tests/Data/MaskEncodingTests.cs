using SegSharp.Data;

namespace SegSharp.Tests.Data;

public class MaskEncodingTests
{
    private const int H = 8, W = 12;

    private static int[] LoadMask(string descriptionPath, int index = 0) =>
        new FolderDataset(DatasetDescription.Load(descriptionPath)).Load(index).Mask;

    [Fact]
    public void Index_masks_are_class_indices()
    {
        var expected = DatasetFixture.Pattern(H, W, 3);
        string yaml = DatasetFixture.Create(TestPaths.TempFolder("index"), "mask_encoding: index\nclasses: [{ name: a }, { name: b }, { name: c }]\n", 1,
            (path, _) => DatasetFixture.WriteGray8(path, expected, H, W));
        Assert.Equal(expected, LoadMask(yaml));
    }

    [Fact]
    public void Value_map_sends_0_and_255_to_classes_0_and_1()
    {
        var classes = DatasetFixture.Pattern(H, W, 2);
        string yaml = DatasetFixture.Create(TestPaths.TempFolder("values"),
            "mask_encoding: values\nclasses:\n  - { name: membrane, value: 0 }\n  - { name: cell, value: 255 }\n", 1,
            (path, _) => DatasetFixture.WriteGray8(path, classes.Select(c => c == 0 ? 0 : 255).ToArray(), H, W));
        Assert.Equal(classes, LoadMask(yaml));
    }

    [Fact]
    public void Value_map_reads_16_bit_masks_without_rescaling()
    {
        var classes = DatasetFixture.Pattern(H, W, 3);
        int[] values = { 1000, 20000, 65535 };
        string yaml = DatasetFixture.Create(TestPaths.TempFolder("values16"),
            "mask_encoding: values\nclasses:\n  - { name: a, value: 1000 }\n  - { name: b, value: 20000 }\n  - { name: c, value: 65535 }\n", 1,
            (path, _) => DatasetFixture.WriteGray16(path, classes.Select(c => values[c]).ToArray(), H, W));
        Assert.Equal(classes, LoadMask(yaml));
    }

    [Fact]
    public void Ignore_values_become_the_ignore_index()
    {
        var classes = DatasetFixture.Pattern(H, W, 3); // class 2 is written as the ignored value 128
        string yaml = DatasetFixture.Create(TestPaths.TempFolder("ignore"),
            "mask_encoding: values\nclasses:\n  - { name: a, value: 0 }\n  - { name: b, value: 255 }\nignore_values: [128]\nignore_index: 99\n", 1,
            (path, _) => DatasetFixture.WriteGray8(path, classes.Select(c => c switch { 0 => 0, 1 => 255, _ => 128 }).ToArray(), H, W));
        Assert.Equal(classes.Select(c => c == 2 ? 99 : c).ToArray(), LoadMask(yaml));
    }

    [Fact]
    public void Rgb_colour_map_decodes_each_colour_to_its_class()
    {
        var classes = DatasetFixture.Pattern(H, W, 3);
        int[] colors = { 0x000000, 0xFF0000, 0x00FF80 };
        string yaml = DatasetFixture.Create(TestPaths.TempFolder("rgb"),
            "mask_encoding: rgb\nclasses:\n  - { name: bg, color: [0, 0, 0] }\n  - { name: red, color: [255, 0, 0] }\n  - { name: teal, color: [0, 255, 128] " +
                "}\n", 1,
            (path, _) => DatasetFixture.WriteRgb(path, classes.Select(c => colors[c]).ToArray(), H, W));
        Assert.Equal(classes, LoadMask(yaml));
    }

    [Fact]
    public void Palette_png_indices_map_to_classes_regardless_of_palette_colours()
    {
        var classes = DatasetFixture.Pattern(H, W, 3);
        // Palette entries 5, 9 and 2 are the classes; two entries share a colour, so only the index identifies them.
        int[] paletteIndex = { 5, 9, 2 };
        var palette = Enumerable.Range(0, 10).Select(i => i is 5 or 9 ? new byte[] { 10, 20, 30 } : new byte[] { (byte)i, 0, 0 }).ToList();
        string yaml = DatasetFixture.Create(TestPaths.TempFolder("palette"),
            "mask_encoding: palette\nclasses:\n  - { name: a, value: 5 }\n  - { name: b, value: 9 }\n  - { name: c, value: 2 }\n", 1,
            (path, _) => IndexedPng.Write(path, classes.Select(c => (byte)paletteIndex[c]).ToArray(), H, W, palette));
        Assert.Equal(classes, LoadMask(yaml));
    }

    [Fact]
    public void Indexed_png_round_trips_indices()
    {
        var indices = Enumerable.Range(0, 37 * 23).Select(i => (byte)(i * 31 % 256)).ToArray();
        string path = Path.Combine(TestPaths.TempFolder("png"), "m.png");
        IndexedPng.Write(path, indices, 23, 37, Enumerable.Range(0, 256).Select(i => new[] { (byte)i, (byte)i, (byte)i }).ToList());
        var (read, h, w) = IndexedPng.Read(path);
        Assert.Equal((23, 37), (h, w));
        Assert.Equal(indices, read);
    }

    [Fact]
    public void Color_images_load_as_three_planes_in_unit_range()
    {
        string path = Path.Combine(TestPaths.TempFolder("rgbimage"), "i.png");
        DatasetFixture.WriteRgb(path, new[] { 0xFF0080, 0x000000 }, 1, 2);
        var (pixels, h, w) = ImageFiles.ReadImage(path, 3);
        Assert.Equal((1, 2), (h, w));
        Assert.Equal(new[] { 1f, 0f, 0f, 0f, MathF.Round(128f / 255f, 4), 0f }, pixels.Select(p => MathF.Round(p, 4)).ToArray());
    }
}
