using SegSharp.Foundation;

namespace SegSharp.Configuration;

/// <summary>model.name: the network architecture.</summary>
public enum ModelKind
{
    [OptionName("unet")] UNet,
    [OptionName("deeplabv3plus")] DeepLabV3Plus,

    /// <summary>A feature pyramid network on a ResNet encoder (output stride 32).</summary>
    [OptionName("fpn")] Fpn,

    /// <summary>LinkNet: a light decoder that adds (not concatenates) the encoder's levels (output stride 32).</summary>
    [OptionName("linknet")] LinkNet,
}
