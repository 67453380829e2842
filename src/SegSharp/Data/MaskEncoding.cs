using SegSharp.Foundation;

namespace SegSharp.Data;

/// <summary>mask_encoding: how mask pixels name classes (class index, explicit value map, RGB colour map, or palette index).</summary>
public enum MaskEncoding
{
    [OptionName("index")] Index,
    [OptionName("values")] Values,
    [OptionName("rgb")] Rgb,
    [OptionName("palette")] Palette,
}
