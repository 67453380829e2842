using SegSharp.Configuration;

namespace SegSharp.Tests.Configuration;

/// <summary><c>base:</c> recipes: the merge rules, chains, paths relative to the file that wrote them, cycles, and the shipped studies.</summary>
public sealed class RecipeInheritanceTests : IDisposable
{
    private readonly string _root = TestPaths.TempFolder("inherit");

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string Write(string relative, string text)
    {
        string path = Path.Combine(_root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void Mappings_merge_key_by_key_lists_and_scalars_replace_and_bases_chain()
    {
        Write("grand.yaml", "model: { name: unet, depth: 2, width: 4 }\noptimizer: { name: sgd, lr: 0.5, momentum: 0.8 }\n" +
            "loss: { terms: [ { name: cross_entropy }, { name: dice } ] }\n");
        Write("recipes/parent.yaml", "base: ../grand.yaml\noptimizer: { lr: 0.1 }\ndata: { dataset: ../data/set.yaml }\n");
        Write("data/set.yaml", "classes: [a, b]\n");
        string child = Write("recipes/studies/child.yaml", "base: ../parent.yaml\nloss: { terms: [ { name: focal, gamma: 3 } ] }\nmodel: { width: 8 }\n");
        var config = SegSharpConfig.Load(child, new[] { "train.epochs=2" });

        Assert.Equal(8, config.Model.Width);                    // the child's value
        Assert.Equal(2, config.Model.Depth);                    // kept from the grandparent
        Assert.Equal(0.1, config.Optimizer.LR);                 // the parent's
        Assert.Equal(0.8, config.Optimizer.Momentum);           // the grandparent's, beside it
        Assert.Equal(LossKind.Focal, Assert.Single(config.Loss).Kind);  // a list is replaced whole
        Assert.Equal(Path.Combine(_root, "data", "set.yaml"), config.Data.Dataset);   // relative to parent.yaml, not to child.yaml
        Assert.Equal(child, config.Origins["model.width"]);
        Assert.Equal(Path.Combine(_root, "grand.yaml"), config.Origins["model.depth"]);
        Assert.Equal(Path.Combine(_root, "recipes", "parent.yaml"), config.Origins["optimizer.lr"]);
        Assert.Equal(child, config.Origins["loss.terms[0].name"]);
        Assert.False(config.Origins.ContainsKey("loss.terms[1].name"));
        Assert.Equal("--set", config.Origins["train.epochs"]);
        Assert.False(config.Origins.ContainsKey("train.seed"));  // a default
    }

    [Fact]
    public void A_cycle_a_missing_base_and_a_base_that_is_not_a_path_are_refused_in_one_line()
    {
        string a = Write("a.yaml", "base: b.yaml\ntrain: { epochs: 1 }\n");
        Write("b.yaml", "base: a.yaml\n");
        var cycle = Assert.Throws<ConfigException>(() => SegSharpConfig.Load(a));
        Assert.Contains("base makes a cycle (a.yaml -> b.yaml -> a.yaml)", cycle.Message, StringComparison.Ordinal);
        var missing = Assert.Throws<ConfigException>(() => SegSharpConfig.Load(Write("c.yaml", "base: nowhere.yaml\n")));
        Assert.Contains("base 'nowhere.yaml' does not exist", missing.Message, StringComparison.Ordinal);
        var list = Assert.Throws<ConfigException>(() => SegSharpConfig.Load(Write("d.yaml", "base: [a.yaml]\n")));
        Assert.Contains("base must be the path of another config YAML", list.Message, StringComparison.Ordinal);
        Assert.All(new[] { cycle, missing, list }, e => Assert.DoesNotContain('\n', e.Message));
        // A config stored in a checkpoint is flat: base there is an unknown key.
        Assert.Throws<ConfigException>(() => SegSharpConfig.Parse("base: a.yaml\n", "stored", _root));
    }

    /// <summary>Each study states only what it changes: every value that differs from its base recipe is one the study sets.</summary>
    [Theory]
    [InlineData("camvid-deeplab-class-weights-crop384.yaml", "camvid-deeplab.yaml")]
    [InlineData("camvid-deeplab-class-weights.yaml", "camvid-deeplab.yaml")]
    [InlineData("camvid-deeplab-crop384.yaml", "camvid-deeplab.yaml")]
    [InlineData("camvid-deeplab-focal.yaml", "camvid-deeplab.yaml")]
    [InlineData("isbi-unet-bf16-long.yaml", "isbi-unet.yaml")]
    [InlineData("isbi-unet-border.yaml", "isbi-unet.yaml")]
    [InlineData("isbi-unet-elastic.yaml", "isbi-unet.yaml")]
    public void A_study_recipe_is_its_base_plus_its_own_lines(string study, string recipe)
    {
        string path = TestPaths.Config(Path.Combine("studies", study));
        var derived = SegSharpConfig.Load(path);
        var baseline = SegSharpConfig.Load(TestPaths.Config(recipe));
        Assert.True(File.ReadAllLines(path).Count(l => !l.TrimStart().StartsWith('#')) <= 16, $"{study} restates its base");
        var mine = ConfigDifference.Flatten(derived.EffectiveYaml, study);
        var theirs = ConfigDifference.Flatten(baseline.EffectiveYaml, recipe);
        foreach (var (key, value) in mine.Where(kv => !kv.Key.EndsWith(".count", StringComparison.Ordinal)))
            if (theirs.GetValueOrDefault(key) != value)
                Assert.True(derived.Origins.GetValueOrDefault(key) == Path.GetFullPath(path), $"{study}: {key} = {value} but the study does not set it");
        Assert.Equal(baseline.Data.Dataset, derived.Data.Dataset);
    }
}
