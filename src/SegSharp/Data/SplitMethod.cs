using SegSharp.Foundation;

namespace SegSharp.Data;

/// <summary>split.method: a seeded random fraction, or explicit train/val lists of stems.</summary>
public enum SplitMethod
{
    [OptionName("ratio")] Ratio,
    [OptionName("lists")] Lists,
}
