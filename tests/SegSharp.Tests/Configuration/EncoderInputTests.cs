using SegSharp.Configuration;

namespace SegSharp.Tests.Configuration;

/// <summary>Each encoder's expected input is checked against the recipe: torchvision's ImageNet weights without ImageNet's normalisation warn.</summary>
public class EncoderInputTests
{
    private static SegSharpConfig Load(params string[] settings) => SegSharpConfig.Load(null, settings);

    [Fact]
    public void Torchvision_weights_warn_unless_the_recipe_normalises_as_imagenet()
    {
        const string imagenet = "{ name: normalize, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] }";
        var plain = Load("model.name=fpn", "model.encoder=resnet34", "model.encoder_weights=resnet34.pth", "transforms.val=[]");
        Assert.Equal("warning: model.encoder_weights are torchvision ImageNet weights, trained on pixels normalised by mean [0.485, 0.456, 0.406] " +
            "std [0.229, 0.224, 0.225], but transforms.val has no normalize step. Use { name: normalize, mean: [0.485, 0.456, 0.406], std: [0.229, " +
            "0.224, 0.225] } in transforms.train and transforms.val unless the difference is meant.",
            EncoderInput.Mismatch(plain.Model, plain.ValidationTransforms));
        var other = Load("model.name=fpn", "model.encoder=resnet34", "model.encoder_weights=resnet34.pth",
            "transforms.val=[{ name: normalize, mean: [0.5], std: [0.25] }]");
        Assert.Contains("but transforms.val has mean [0.5] std [0.25].", EncoderInput.Mismatch(other.Model, other.ValidationTransforms));
        var right = Load("model.name=fpn", "model.encoder=resnet34", "model.encoder_weights=resnet34.pth", $"transforms.val=[{imagenet}]");
        Assert.Null(EncoderInput.Mismatch(right.Model, right.ValidationTransforms));
        // No external weights, or ML.NET's encoder (which normalises inside the model): nothing to check.
        var scratch = Load("model.name=fpn", "model.encoder=resnet34", "transforms.val=[]");
        Assert.Null(EncoderInput.Mismatch(scratch.Model, scratch.ValidationTransforms));
        var mlnet = Load("model.name=fpn", "model.encoder=mlnet-resnet18", "model.encoder_weights=pretrained", "transforms.train=[]", "transforms.val=[]");
        Assert.Null(EncoderInput.Mismatch(mlnet.Model, mlnet.ValidationTransforms));
    }
}
