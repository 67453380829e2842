using System.Text.Json;
using SegSharp.Configuration;
using SegSharp.Foundation;
using SegSharp.Losses;
using SegSharp.Models;
using SegSharp.Transforms;

namespace SegSharp.Tests.Configuration;

/// <summary>
/// Every transform and loss has a spec record of exactly its parameters, read from the config in one place and built by
/// one line; the JSON a model card holds names each by its option name and reads back, old cards included.
/// </summary>
public class OptionSpecTests
{
    public static TheoryData<TransformKind> TransformKinds => new(Enum.GetValues<TransformKind>());

    public static TheoryData<LossKind> LossKinds => new(Enum.GetValues<LossKind>());

    [Theory]
    [MemberData(nameof(TransformKinds))]
    public void Every_transform_kind_has_a_spec_that_builds_and_round_trips_through_json_under_its_option_name(TransformKind kind)
    {
        var spec = TransformSpec.Default(kind);
        Assert.Equal(kind, spec.Kind);
        Assert.NotNull(TransformPipeline.Create(spec));
        string json = JsonSerializer.Serialize(spec, JsonFormats.Compact);
        Assert.StartsWith($"{{\"kind\":\"{OptionNames<TransformKind>.Name(kind)}\"", json, StringComparison.Ordinal);
        var back = JsonSerializer.Deserialize<TransformSpec>(json, JsonFormats.Compact)!;
        Assert.Equal(spec.GetType(), back.GetType());
        Assert.Equal(json, JsonSerializer.Serialize(back, JsonFormats.Compact));
    }

    [Theory]
    [MemberData(nameof(LossKinds))]
    public void Every_loss_kind_has_a_spec_that_builds(LossKind kind)
    {
        var spec = LossTermSpec.Default(kind);
        Assert.Equal(kind, spec.Kind);
        Assert.Equal(OptionNames<LossKind>.Name(kind), WeightedLoss.Create(spec, 255) switch
        {
            CrossEntropyLoss => "cross_entropy",
            DiceLoss => "dice",
            FocalLoss => "focal",
            TverskyLoss => "tversky",
            OhemCrossEntropyLoss => "ohem_cross_entropy",
            LovaszSoftmaxLoss => "lovasz_softmax",
            var other => other.GetType().Name,
        });
    }

    [Fact]
    public void A_config_entry_becomes_the_record_of_exactly_its_parameters()
    {
        var config = SegSharpConfig.Load(null, new[]
        {
            "transforms.train=[{ name: elastic, p: 0.3, grid: 4, sigma: 8 }]", "transforms.val=[{ name: normalize, mean: [0.5], std: [0.5] }]",
            "loss.terms=[{ name: cross_entropy }, { name: focal, gamma: 3, weight: 0.5 }]",
        });
        Assert.Equal(new ElasticSpec(0.3, 4, 8), config.TrainTransforms[0]);
        var focal = Assert.IsType<FocalSpec>(config.Loss[1]);
        Assert.Equal((0.5, 3.0, (double[]?)null), (focal.Weight, focal.Gamma, focal.Alpha));
        // A normalize step carries its own two arrays and nothing else.
        var normalize = Assert.IsType<NormalizeSpec>(config.ValidationTransforms.Single());
        Assert.Equal("{\"kind\":\"normalize\",\"mean\":[0.5],\"std\":[0.5]}", JsonSerializer.Serialize<TransformSpec>(normalize, JsonFormats.Compact)
            .Replace(".0", "", StringComparison.Ordinal));
    }

    /// <summary>Checkpoints written before the spec records held every transform field; their cards still load.</summary>
    [Fact]
    public void A_model_card_written_with_the_old_catch_all_transform_record_still_reads()
    {
        const string old = "{\"kind\":\"normalize\",\"size\":[256,256],\"p\":0.5,\"range\":[0.75,1.25],\"grid\":3,\"sigma\":10," +
            "\"brightness\":0.1,\"contrast\":0.1,\"gamma\":0,\"mean\":[0.4],\"std\":[0.3]}";
        var spec = Assert.IsType<NormalizeSpec>(JsonSerializer.Deserialize<TransformSpec>(old, JsonFormats.Compact));
        Assert.Equal(new[] { 0.4 }, spec.Mean);
        Assert.Equal(new[] { 0.3 }, spec.Std);
        Assert.IsType<NormalizeSpec>(Assert.Single(JsonSerializer.Deserialize<ModelCardPreprocessing>("{\"preprocessing\":[" + old + "]}",
            JsonFormats.Compact)!.Preprocessing));
    }

    private sealed record ModelCardPreprocessing(IReadOnlyList<TransformSpec> Preprocessing);
}
