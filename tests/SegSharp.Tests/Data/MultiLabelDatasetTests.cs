using SegSharp.Configuration;
using SegSharp.Data;

namespace SegSharp.Tests.Data;

/// <summary>
/// Multilabel datasets (<c>task: multilabel</c>): a mask folder per class or one mask whose bands are the classes, read
/// into label bits that keep overlapping classes; ignore values, missing masks and keys that mean nothing here are named.
/// </summary>
public class MultiLabelDatasetTests
{
    private const int H = 4, W = 5;

    /// <summary>Class c's raw mask value at pixel i: overlapping patterns, 0 absent, 255 present (128 "don't care" for class 1 at pixel 3).</summary>
    private static int Raw(int c, int i) => c == 1 && i == 3 ? 128 : (i + c) % (c + 2) == 0 ? 255 : 0;

    private static string Folders(string name, string extra = "")
    {
        string root = TestPaths.TempFolder(name);
        Directory.CreateDirectory(Path.Combine(root, "images"));
        foreach (string c in new[] { "road", "car", "shadow" }) Directory.CreateDirectory(Path.Combine(root, "masks", c));
        for (int n = 0; n < 2; n++)
        {
            DatasetFixture.WriteGray8(Path.Combine(root, "images", $"{n}.png"), new int[H * W], H, W);
            for (int c = 0; c < 3; c++)
                DatasetFixture.WriteGray8(Path.Combine(root, "masks", new[] { "road", "car", "shadow" }[c], $"{n}.png"),
                    Enumerable.Range(0, H * W).Select(i => Raw(c, i)).ToArray(), H, W);
        }
        string yaml = Path.Combine(root, "dataset.yaml");
        File.WriteAllText(yaml, "name: ml\nchannels: 1\ntask: multilabel\nclasses: [road, car, shadow]\nignore_values: [128]\n" + extra);
        return yaml;
    }

    [Fact]
    public void Class_folders_become_label_bits_with_overlaps_and_ignored_pixels()
    {
        var description = DatasetDescription.Load(Folders("ml-folders"));
        Assert.Equal((SegmentationTask.Multilabel, LabelBits.Ignore), (description.Task, description.IgnoreIndex));
        var sample = new FolderDataset(description).Load(0);
        for (int i = 0; i < H * W; i++)
        {
            int expected = i == 3 ? LabelBits.Ignore : Enumerable.Range(0, 3).Where(c => Raw(c, i) != 0).Sum(c => 1 << c);
            Assert.Equal(expected, sample.Mask[i]);
        }
        Assert.Contains(sample.Mask, v => v is 3 or 5 or 6 or 7);   // some pixel holds two classes at once
        var report = DatasetChecker.Check(description);
        Assert.Empty(report.Errors);
        Assert.Equal(Enumerable.Range(0, 3).Select(c => 2L * Enumerable.Range(0, H * W).Count(i => i != 3 && Raw(c, i) != 0)), report.ClassPixels);
        Assert.Equal(2, report.IgnoredPixels);
        // Shares are of the labelled pixels each class could be present in (overlapping classes may add up past 100 %).
        Assert.Equal((double)report.ClassPixels[0] / (2 * H * W - 2), report.Share(0), 12);
    }

    [Fact]
    public void One_rgb_mask_per_image_gives_three_classes_by_band()
    {
        string root = TestPaths.TempFolder("ml-bands");
        Directory.CreateDirectory(Path.Combine(root, "images"));
        Directory.CreateDirectory(Path.Combine(root, "masks"));
        DatasetFixture.WriteGray8(Path.Combine(root, "images", "a.png"), new int[H * W], H, W);
        var packed = Enumerable.Range(0, H * W).Select(i => (Raw(0, i) << 16) | (i % 3 == 0 ? 0xFF00 : 0) | (i % 2 == 0 ? 0x40 : 0)).ToArray();
        DatasetFixture.WriteRgb(Path.Combine(root, "masks", "a.png"), packed, H, W);
        string yaml = Path.Combine(root, "dataset.yaml");
        File.WriteAllText(yaml, "channels: 1\ntask: multilabel\nmask_layout: bands\nclasses: [r, g, b]\n");
        var mask = new FolderDataset(DatasetDescription.Load(yaml)).Load(0).Mask;
        Assert.Equal(Enumerable.Range(0, H * W).Select(i => (Raw(0, i) != 0 ? 1 : 0) | (i % 3 == 0 ? 2 : 0) | (i % 2 == 0 ? 4 : 0)), mask);
    }

    [Fact]
    public void A_missing_class_mask_and_keys_of_multiclass_are_refused_naming_the_fix()
    {
        string yaml = Folders("ml-missing");
        string root = Path.GetDirectoryName(yaml)!;
        File.Delete(Path.Combine(root, "masks", "shadow", "1.png"));
        var description = DatasetDescription.Load(yaml);
        var error = Assert.Throws<SegSharpException>(() => new FolderDataset(description).Load(1));
        Assert.Equal($"Image '1' has no mask for class 'shadow' in '{Path.Combine(root, "masks", "shadow")}'. Add one (all zeros where the class is " +
            "absent) or remove the image.", error.Message);
        Assert.Equal(error.Message, Assert.Single(DatasetChecker.Check(description).Errors));

        var refused = Assert.Throws<ConfigException>(() => DatasetDescription.Load(Folders("ml-encoding", "mask_encoding: rgb\n")));
        Assert.Contains("mask_encoding", refused.Message);
        Assert.Contains("nothing with task: multilabel", refused.Message);
        string many = Folders("ml-many");
        File.WriteAllText(many, File.ReadAllText(many).Replace("classes: [road, car, shadow]",
            $"classes: [{string.Join(", ", Enumerable.Range(0, 31).Select(i => $"c{i}"))}]"));
        refused = Assert.Throws<ConfigException>(() => DatasetDescription.Load(many));
        Assert.Contains("at most 30 classes with task: multilabel", refused.Message);
    }
}
