using SegSharp.Foundation;

namespace SegSharp.Configuration;

/// <summary>transforms.*[].name: one joint image/mask transform.</summary>
public enum TransformKind
{
    [OptionName("resize")] Resize,
    [OptionName("random_scale")] RandomScale,
    [OptionName("random_crop")] RandomCrop,
    [OptionName("center_crop")] CenterCrop,
    [OptionName("hflip")] HorizontalFlip,
    [OptionName("vflip")] VerticalFlip,
    [OptionName("rotate90")] Rotate90,
    [OptionName("elastic")] Elastic,
    [OptionName("color_jitter")] ColorJitter,
    [OptionName("normalize")] Normalize,
}
