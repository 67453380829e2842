using System.Reflection;
using SegSharp.Configuration;
using SegSharp.Foundation;

namespace SegSharp.Tests.Configuration;

/// <summary>Every named option comes from one enum; an unknown name lists exactly that enum's choices.</summary>
public class OptionRegistryTests
{
    private static readonly Type[] OptionEnums = typeof(SegSharpException).Assembly.GetTypes()
        .Where(t => t.IsEnum && t.GetFields(BindingFlags.Public | BindingFlags.Static).Any(f => f.IsDefined(typeof(OptionNameAttribute))))
        .ToArray();

    [Fact]
    public void Every_option_enum_names_each_member_once()
    {
        Assert.True(OptionEnums.Length >= 15, $"found only {OptionEnums.Length} option enums");
        foreach (var type in OptionEnums)
        {
            var fields = type.GetFields(BindingFlags.Public | BindingFlags.Static);
            var names = fields.Select(f => f.GetCustomAttribute<OptionNameAttribute>()?.Name).ToList();
            Assert.DoesNotContain(null, names);
            Assert.Equal(names.Count, names.Distinct(StringComparer.Ordinal).Count());
        }
    }

    [Theory]
    [InlineData("model.name", "unet, deeplabv3plus, fpn, linknet")]
    [InlineData("model.norm", "batch, group, none")]
    [InlineData("model.encoder", "resnet18, resnet34, resnet50, mlnet-resnet18, none")]
    [InlineData("model.upsampling", "transpose, bilinear")]
    [InlineData("model.input_policy", "pad, strict")]
    [InlineData("loss.terms[0].name", "cross_entropy, dice, focal, tversky, ohem_cross_entropy, lovasz_softmax")]
    [InlineData("loss.terms[1].mode", "multiclass, binary")]
    [InlineData("optimizer.name", "adam, adamw, sgd")]
    [InlineData("schedule.name", "constant, step, poly, cosine")]
    [InlineData("transforms.train[0].name", "resize, random_scale, random_crop, center_crop, hflip, vflip, rotate90, elastic, color_jitter, normalize")]
    [InlineData("train.precision", "float32, bf16-mixed")]
    [InlineData("train.best_metric", "mean_dice, mean_iou, pixel_accuracy, val_loss")]
    [InlineData("train.device", "cpu")]
    [InlineData("evaluation.precision", "auto, float32, bfloat16")]
    [InlineData("evaluation.memory_format", "auto, channels_last, contiguous")]
    public void Unknown_name_lists_the_choices(string key, string choices)
    {
        var error = Assert.Throws<ConfigException>(() => SegSharpConfig.Load(null, new[] { $"{key}=bogus" }));
        Assert.Equal($"embedded:default: {key} = 'bogus' is not valid; expected one of {choices}.", error.Message);
    }

    [Fact]
    public void Names_round_trip_through_the_registry_and_json()
    {
        foreach (var value in Enum.GetValues<TransformKind>())
            Assert.True(OptionNames<TransformKind>.TryParse(OptionNames<TransformKind>.Name(value), out var back) && back == value);
        string json = System.Text.Json.JsonSerializer.Serialize(new { kind = ModelKind.DeepLabV3Plus }, JsonFormats.Compact);
        Assert.Equal("{\"kind\":\"deeplabv3plus\"}", json);
    }
}
