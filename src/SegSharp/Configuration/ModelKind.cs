using SegSharp.Foundation;

namespace SegSharp.Configuration;

/// <summary>model.name: the network architecture.</summary>
public enum ModelKind
{
    [OptionName("unet")] UNet,
    [OptionName("deeplabv3plus")] DeepLabV3Plus,
}
