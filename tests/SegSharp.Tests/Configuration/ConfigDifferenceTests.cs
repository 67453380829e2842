using SegSharp.Configuration;

namespace SegSharp.Tests.Configuration;

public class ConfigDifferenceTests
{
    private static string Yaml(params string[] overrides) => SegSharpConfig.Load(null, overrides).EffectiveYaml;

    [Fact]
    public void Changed_weight_keys_are_named_with_old_and_new_values()
    {
        var changes = ConfigDifference.WeightRelevant(Yaml(), Yaml("optimizer.lr=0.01", "transforms.train[0].p=0.25"));
        Assert.Equal("optimizer.lr 0.003 → 0.01, transforms.train[0].p 0.5 → 0.25", ConfigDifference.Describe(changes));
    }

    [Fact]
    public void Loader_threads_checkpoint_frequency_evaluation_and_output_do_not_count()
    {
        var changes = ConfigDifference.WeightRelevant(Yaml(),
            Yaml("data.workers=0", "data.prefetch=9", "train.checkpoint_every=3", "evaluation.samples=1", "evaluation.tile_size=256", "output.dir=/tmp/x"));
        Assert.Empty(changes);
    }

    [Fact]
    public void A_list_that_grows_or_shrinks_is_a_change()
    {
        var changes = ConfigDifference.WeightRelevant(Yaml(), Yaml("loss.terms=[{ name: cross_entropy }]"));
        Assert.Contains(changes, c => c.Key == "loss.terms.count" && c.Old == "2" && c.New == "1");
    }

    [Fact]
    public void A_config_stored_before_a_key_existed_resumes_as_that_key_s_default_and_tracking_never_counts()
    {
        // A checkpoint of an earlier SegSharp: no train.sync_batch_norm, no tracking section.
        string stored = string.Join('\n', Yaml().Split('\n').Where(l => !l.Contains("sync_batch_norm", StringComparison.Ordinal)));
        Assert.Contains(ConfigDifference.WeightRelevant(stored, Yaml()), c => c.Key == "train.sync_batch_norm" && c.Old is null);
        Assert.Empty(ConfigDifference.WeightRelevant(ConfigDifference.WithCurrentDefaults(stored), Yaml()));
        // A real change still counts after the defaults are filled in.
        Assert.NotEmpty(ConfigDifference.WeightRelevant(ConfigDifference.WithCurrentDefaults(stored), Yaml("train.sync_batch_norm=true")));
        Assert.Empty(ConfigDifference.WeightRelevant(Yaml(), Yaml("tracking.mlflow.uri=file:./mlruns", "tracking.mlflow.experiment=x")));
    }
}
