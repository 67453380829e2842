using SegSharp.Foundation;

namespace SegSharp.Configuration;

/// <summary>model.encoder: the DeepLabV3+ backbone.</summary>
public enum EncoderKind
{
    [OptionName("resnet18")] ResNet18,
    [OptionName("resnet34")] ResNet34,
    [OptionName("resnet50")] ResNet50,
}
