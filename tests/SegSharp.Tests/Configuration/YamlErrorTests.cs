using SegSharp.Configuration;
using SegSharp.Data;

namespace SegSharp.Tests.Configuration;

/// <summary>Broken YAML anywhere (config, dataset description, --set) is one line with the source, line and column.</summary>
public class YamlErrorTests
{
    private static string Write(string text, string name = "c.yaml")
    {
        string path = Path.Combine(TestPaths.TempFolder("yaml"), name);
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void Syntax_error_in_a_config_names_file_line_and_column()
    {
        string path = Write("train:\n  epochs: 3\n  batch_size: [4\nmodel: {}\n");
        var error = Assert.Throws<ConfigException>(() => SegSharpConfig.Load(path));
        Assert.StartsWith($"{path}: not valid YAML at line ", error.Message, StringComparison.Ordinal);
        Assert.Matches(@"at line \d+, column \d+: ", error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void Duplicate_key_is_an_error_not_a_silent_override()
    {
        string path = Write("train:\n  epochs: 3\n  epochs: 5\n");
        var error = Assert.Throws<ConfigException>(() => SegSharpConfig.Load(path));
        Assert.Contains($"{path}: not valid YAML at line 3, column 3", error.Message);
        Assert.Contains("uplicate key", error.Message);
    }

    [Theory]
    [InlineData("- train\n- model\n", "a list")]
    [InlineData("just some words\n", "the single value 'just some words'")]
    public void A_top_level_that_is_not_a_mapping_is_refused_not_read_as_empty(string text, string what)
    {
        string path = Write(text);
        var error = Assert.Throws<ConfigException>(() => SegSharpConfig.Load(path));
        Assert.Equal($"{path}: line 1, column 1: the top level must be a mapping of keys (e.g. 'train:'), not {what}.", error.Message);
    }

    [Fact]
    public void Binary_junk_is_refused()
    {
        string path = Path.Combine(TestPaths.TempFolder("yaml"), "junk.yaml");
        File.WriteAllBytes(path, new byte[] { 0x7f, 0x45, 0x4c, 0x46, 0, 0, 1, 2 });
        var error = Assert.Throws<ConfigException>(() => SegSharpConfig.Load(path));
        Assert.StartsWith($"{path}: is not a YAML text file", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Syntax_error_in_a_set_value_names_the_assignment()
    {
        var error = Assert.Throws<ConfigException>(() => SegSharpConfig.Load(null, new[] { "transforms.train[0].p=[0.5" }));
        Assert.Matches(@"^--set 'transforms.train\[0\].p=\[0.5': not valid YAML at line \d+, column \d+: ", error.Message);
    }

    [Fact]
    public void Syntax_error_in_a_dataset_description_names_it()
    {
        string path = Write("name: x\nclasses:\n  - { name: a, value: 0\n", "dataset.yaml");
        var error = Assert.Throws<ConfigException>(() => DatasetDescription.Load(path));
        Assert.StartsWith($"{path}: not valid YAML at line ", error.Message, StringComparison.Ordinal);
    }
}
