using SegSharp.Foundation;

namespace SegSharp.Configuration;

/// <summary>model.encoder: the backbone of the models that have one (<see cref="ModelConfig.HasEncoder"/>).</summary>
public enum EncoderKind
{
    [OptionName("resnet18")] ResNet18,
    [OptionName("resnet34")] ResNet34,
    [OptionName("resnet50")] ResNet50,

    /// <summary>
    /// ML.NET's ImageNet-pretrained ResNet-18 (CNTK; stages of 2, 2, 2 and 3 basic blocks), the one pretrained backbone
    /// available offline: <c>encoder_weights: pretrained</c> loads it from the Microsoft.ML.DnnImageFeaturizer.ResNet18 package.
    /// </summary>
    [OptionName("mlnet-resnet18")] MlnetResNet18,

    /// <summary>No encoder: the classic U-Net (model.name unet's default; the other models need an encoder).</summary>
    [OptionName("none")] None,
}
