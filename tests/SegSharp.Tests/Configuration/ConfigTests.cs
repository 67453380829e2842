using SegSharp.Configuration;

namespace SegSharp.Tests.Configuration;

public class ConfigTests
{
    private static string Write(string yaml)
    {
        string path = Path.Combine(TestPaths.TempFolder("config"), "c.yaml");
        File.WriteAllText(path, yaml);
        return path;
    }

    [Fact]
    public void Embedded_default_loads_with_documented_values()
    {
        var config = SegSharpConfig.Load(null);
        Assert.Equal("builtin:shapes", config.Data.Dataset);
        Assert.Equal(ModelKind.UNet, config.Model.Kind);
        Assert.Equal(new[] { LossKind.CrossEntropy, LossKind.Dice }, config.Loss.Select(t => t.Kind));
        Assert.Equal(42, config.Train.Seed);
    }

    [Fact]
    public void Overrides_replace_values_and_are_validated_like_file_values()
    {
        var config = SegSharpConfig.Load(null, new[] { "optimizer.lr=0.01", "train.epochs=3", "transforms.train[0].p=0.25", "model.name=deeplabv3plus" });
        Assert.Equal(0.01, config.Optimizer.LR);
        Assert.Equal(3, config.Train.Epochs);
        Assert.Equal(0.25, ((SegSharp.Transforms.Flip)SegSharp.Transforms.TransformPipeline.Create(config.TrainTransforms).Steps[0]).Probability);
        Assert.Equal(ModelKind.DeepLabV3Plus, config.Model.Kind);
        var bad = Assert.Throws<ConfigException>(() => SegSharpConfig.Load(null, new[] { "optimizer.lr=fast" }));
        Assert.Equal("embedded:default: optimizer.lr = 'fast' is not valid; expected a number from 1E-12 to 100.", bad.Message);
    }

    [Fact]
    public void Unknown_key_names_its_path_and_the_known_keys()
    {
        var error = Assert.Throws<ConfigException>(() => SegSharpConfig.Load(Write("train:\n  epochz: 3\n")));
        Assert.Contains("unknown key 'train.epochz'; known keys here: accumulate, batch_size", error.Message);
    }

    [Fact]
    public void Bad_choice_lists_the_allowed_values()
    {
        var path = Write("model:\n  name: segformer\n");
        var error = Assert.Throws<ConfigException>(() => SegSharpConfig.Load(path));
        Assert.Equal($"{path}: model.name = 'segformer' is not valid; expected one of unet, deeplabv3plus, fpn, linknet.", error.Message);
        var list = Assert.Throws<ConfigException>(() => SegSharpConfig.Load(Write("transforms:\n  train:\n    - { name: random_crop, size: [1, 2, 3] }\n")));
        Assert.Contains("transforms.train[0].size = '[1, 2, 3]'", list.Message);
    }

    [Fact]
    public void Effective_config_reloads_to_the_same_effective_config()
    {
        var first = SegSharpConfig.Load(null, new[] { "train.epochs=2", "loss.terms[1].weight=0.5" });
        string path = Write(first.EffectiveYaml);
        var second = SegSharpConfig.Load(path);
        Assert.Equal(first.EffectiveYaml, second.EffectiveYaml);
        Assert.Contains("epochs: 2", first.EffectiveYaml);
        Assert.Equal(0.5, second.Loss[1].Weight);
    }

    [Fact]
    public void Dataset_paths_resolve_relative_to_the_config_file()
    {
        var config = SegSharpConfig.Load(TestPaths.Config("isbi-unet.yaml"));
        Assert.Equal(TestPaths.IsbiDescription, config.Data.Dataset);
    }

    /// <summary>Every example a message offers must itself be accepted: a user who copies it gets a working config.</summary>
    [Theory]
    [InlineData("train.epochs")]
    [InlineData("transforms.train[x].p=1")]
    public void Examples_in_override_errors_are_valid_overrides(string broken)
    {
        var error = Assert.Throws<ConfigException>(() => SegSharpConfig.Load(null, new[] { broken }));
        var example = System.Text.RegularExpressions.Regex.Match(error.Message, @"e\.g\. ([a-z_.\[\]0-9]+=[0-9]+(?:\.[0-9]+)?)").Groups[1].Value;
        Assert.NotEqual("", example);
        SegSharpConfig.Load(null, new[] { example });
    }

    [Fact]
    public void The_loss_term_example_is_a_valid_loss_term()
    {
        var error = Assert.Throws<ConfigException>(() => SegSharpConfig.Load(null, new[] { "loss.terms=[cross_entropy]" }));
        string example = System.Text.RegularExpressions.Regex.Match(error.Message, "such as '(.*)'").Groups[1].Value;
        Assert.Equal(LossKind.CrossEntropy, SegSharpConfig.Load(null, new[] { $"loss.terms=[{example}]" }).Loss.Single().Kind);
    }
}

