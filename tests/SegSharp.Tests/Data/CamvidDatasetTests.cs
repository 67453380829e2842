using SegSharp.Data;

namespace SegSharp.Tests.Data;

/// <summary>The CamVid description reads the real masks as they are: 11 classes, void ignored, split by drive.</summary>
public class CamvidDatasetTests
{
    private static string Description => TestPaths.Config("camvid-sequences.dataset.yaml");

    [Fact]
    public void Class_pixel_counts_match_the_dataset_readme_and_void_is_ignored_without_configuration()
    {
        var report = DatasetChecker.Check(DatasetDescription.Load(Description));
        Assert.True(report.Ok, string.Join("\n", report.Errors));
        Assert.Equal(233, report.Pairs);
        // ../shared/datasets/README.md: pixel counts over all 233 masks, in millions.
        double[] readme = { 6.87, 9.91, 0.47, 10.39, 3.73, 4.53, 0.41, 0.48, 1.60, 0.26, 0.08 };
        for (int c = 0; c < readme.Length; c++) Assert.Equal(readme[c], Math.Round(report.ClassPixels[c] / 1e6, 2));
        Assert.Equal(1.54, Math.Round(report.IgnoredPixels / 1e6, 2));
    }

    [Fact]
    public void The_split_is_by_drive()
    {
        var split = DatasetSplit.Create(new FolderDataset(DatasetDescription.Load(Description)));
        Assert.Equal(171, split.Train.Count);
        Assert.Equal(62, split.Validation.Count);
        Assert.All(Enumerable.Range(0, split.Train.Count), i => Assert.StartsWith("Seq05VD_", split.Train.NameOf(i), StringComparison.Ordinal));
        Assert.All(Enumerable.Range(0, split.Validation.Count), i => Assert.StartsWith("0001TP_", split.Validation.NameOf(i), StringComparison.Ordinal));
    }

    [Fact]
    public void Classes_may_be_a_plain_list_of_names()
    {
        string yaml = Path.Combine(TestPaths.TempFolder("names-list"), "camvid.yaml");
        File.WriteAllText(yaml, $"root: {Path.Combine(TestPaths.SharedDatasets, "camvid-sequences")}\nimages: image\nmasks: label\nchannels: 3\n" +
            "mask_encoding: index\nclasses: [sky, building, pole, road, pavement, tree, sign, fence, car, pedestrian, bicyclist]\nignore_index: 11\n");
        var description = DatasetDescription.Load(yaml);
        Assert.Equal(11, description.ClassCount);
        Assert.Equal("pedestrian", description.Classes[9].Name);
        Assert.Equal(9, description.Classes[9].Value);
        var sample = new FolderDataset(description).Load(0);
        Assert.Contains(11, sample.Mask); // void pixels became the ignore index, not an error
        Assert.All(sample.Mask, v => Assert.True(v is >= 0 and <= 10 or 11));
    }
}
