using SegSharp.Data;

namespace SegSharp.Tests.Data;

public class DataErrorTests
{
    private const int H = 8, W = 12;
    private const string ValueMap = "mask_encoding: values\nclasses:\n  - { name: membrane, value: 0 }\n  - { name: cell, value: 255 }\n";

    private static string Dataset(string name, int count = 2) => DatasetFixture.Create(TestPaths.TempFolder(name), ValueMap, count,
        (path, _) => DatasetFixture.WriteGray8(path, DatasetFixture.Pattern(H, W, 2).Select(c => c * 255).ToArray(), H, W));

    [Fact]
    public void Unknown_mask_value_names_file_value_known_values_and_fix()
    {
        string yaml = Dataset("unknown");
        string mask = Path.Combine(Path.GetDirectoryName(yaml)!, "masks", "1.png");
        DatasetFixture.WriteGray8(mask, Enumerable.Repeat(128, H * W).ToArray(), H, W);
        var error = Assert.Throws<SegSharpException>(() => new FolderDataset(DatasetDescription.Load(yaml)).Load(1));
        Assert.Equal($"Mask '{mask}' holds value 128, which the class map does not name (known: 0, 255). Add it to classes or set ignore_values.",
            error.Message);
        var report = DatasetChecker.Check(DatasetDescription.Load(yaml));
        Assert.Single(report.Errors);
        Assert.Contains("holds value 128 (96 px)", report.Errors[0]);
    }

    [Fact]
    public void Corrupt_image_is_reported_by_path_with_a_fix()
    {
        string yaml = Dataset("corrupt");
        string image = Path.Combine(Path.GetDirectoryName(yaml)!, "images", "0.png");
        File.WriteAllBytes(image, new byte[] { 0x89, 0x50, 0x4E, 0x47, 1, 2, 3, 4, 5 });
        var error = Assert.Throws<SegSharpException>(() => new FolderDataset(DatasetDescription.Load(yaml)).Load(0));
        Assert.StartsWith($"Image '{image}' could not be decoded", error.Message);
        Assert.EndsWith("Re-export it as PNG or remove it from the dataset.", error.Message);
        Assert.DoesNotContain('\n', error.Message);
        Assert.False(DatasetChecker.Check(DatasetDescription.Load(yaml)).Ok);
    }

    [Fact]
    public void Missing_mask_is_an_unpaired_image_in_the_check()
    {
        string yaml = Dataset("missing", 3);
        File.Delete(Path.Combine(Path.GetDirectoryName(yaml)!, "masks", "2.png"));
        var report = DatasetChecker.Check(DatasetDescription.Load(yaml));
        Assert.Equal(2, report.Pairs);
        var error = Assert.Single(report.Errors);
        Assert.Contains("2.png' has no mask with the same stem", error);
    }

    [Fact]
    public void Mask_of_another_size_is_a_mismatch_error()
    {
        string yaml = Dataset("mismatch");
        string mask = Path.Combine(Path.GetDirectoryName(yaml)!, "masks", "0.png");
        DatasetFixture.WriteGray8(mask, new int[4 * 4], 4, 4);
        var error = Assert.Throws<SegSharpException>(() => new FolderDataset(DatasetDescription.Load(yaml)).Load(0));
        Assert.Equal($"Mask '{mask}' is 4x4 but its image is 12x8. Masks must match their image's size.", error.Message);
    }

    [Fact]
    public void Missing_description_and_folders_say_what_to_fix()
    {
        var missing = Assert.Throws<SegSharpException>(() => DatasetDescription.Load("/nonexistent/d.yaml"));
        Assert.Contains("does not exist", missing.Message);
        string root = TestPaths.TempFolder("nofolders");
        File.WriteAllText(Path.Combine(root, "d.yaml"), "root: .\n" + ValueMap);
        var noImages = Assert.Throws<SegSharpException>(() => new FolderDataset(DatasetDescription.Load(Path.Combine(root, "d.yaml"))));
        Assert.Contains("images folder", noImages.Message);
    }

    [Fact]
    public void Description_typos_fail_with_the_key_path()
    {
        string root = TestPaths.TempFolder("typo");
        File.WriteAllText(Path.Combine(root, "d.yaml"), "root: .\n" + ValueMap + "ignore_indx: 3\n");
        var error = Assert.Throws<SegSharp.Configuration.ConfigException>(() => DatasetDescription.Load(Path.Combine(root, "d.yaml")));
        Assert.Contains("unknown key 'ignore_indx'", error.Message);
    }

    [Theory]
    [InlineData("  - { name: a, value: 0 }\n  - { name: a, value: 255 }\n",
        "classes[1].name = 'a' is not valid; expected a name not already used by another class")]
    [InlineData("  - { name: ' ', value: 0 }\n  - { name: b, value: 255 }\n", "classes[0].name = ' ' is not valid; expected a non-empty class name")]
    public void Class_names_must_be_unique_and_non_empty(string classes, string expected)
    {
        string yaml = DatasetFixture.Create(TestPaths.TempFolder("names"), "mask_encoding: values\nclasses:\n" + classes, 1,
            (path, _) => DatasetFixture.WriteGray8(path, new int[H * W], H, W));
        var error = Assert.Throws<SegSharp.Configuration.ConfigException>(() => DatasetDescription.Load(yaml));
        Assert.Contains(expected, error.Message);
    }
}

