using SegSharp.Data;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace SegSharp.Tests.Data;

public class IsbiDatasetTests
{
    [Fact]
    public void Check_reports_30_pairs_of_512_with_membrane_and_cell_shares()
    {
        var report = DatasetChecker.Check(DatasetDescription.Load(TestPaths.IsbiDescription));

        // Count zero pixels straight from the files, independently of the pipeline.
        long zeros = 0, total = 0;
        foreach (var file in Directory.GetFiles(Path.Combine(TestPaths.Isbi, "label"), "*.png"))
        {
            using var mask = Image.Load<L8>(file);
            for (int y = 0; y < mask.Height; y++)
                for (int x = 0; x < mask.Width; x++) { total++; if (mask[x, y].PackedValue == 0) zeros++; }
        }
        Assert.True(report.Ok, string.Join("\n", report.Errors));
        Assert.Equal(30, report.Pairs);
        Assert.Equal(new Dictionary<string, int> { ["512x512"] = 30 }, report.Sizes);
        Assert.Equal(new[] { "membrane", "cell" }, report.Description.Classes.Select(c => c.Name));
        Assert.Equal(zeros, report.ClassPixels[0]);
        Assert.Equal(total - zeros, report.ClassPixels[1]);
        Assert.InRange(report.Share(0), 0.15, 0.30);
    }

    [Fact]
    public void Seeded_ratio_split_is_24_train_6_validation_disjoint_and_stable()
    {
        var dataset = new FolderDataset(DatasetDescription.Load(TestPaths.IsbiDescription));
        var a = DatasetSplit.Create(dataset);
        var b = DatasetSplit.Create(dataset);
        var train = Enumerable.Range(0, a.Train.Count).Select(a.Train.NameOf).ToList();
        var val = Enumerable.Range(0, a.Validation.Count).Select(a.Validation.NameOf).ToList();
        Assert.Equal(24, train.Count);
        Assert.Equal(6, val.Count);
        Assert.Empty(train.Intersect(val));
        Assert.Equal(val, Enumerable.Range(0, b.Validation.Count).Select(b.Validation.NameOf));
    }

    [Fact]
    public void Samples_load_as_one_channel_in_unit_range_with_two_classes()
    {
        var sample = new FolderDataset(DatasetDescription.Load(TestPaths.IsbiDescription)).Load(0);
        Assert.Equal((1, 512, 512), (sample.Channels, sample.Height, sample.Width));
        Assert.All(sample.Image, v => Assert.InRange(v, 0f, 1f));
        Assert.Equal(new[] { 0, 1 }, sample.Mask.Distinct().Order());
    }
}
