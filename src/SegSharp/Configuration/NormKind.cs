using SegSharp.Foundation;

namespace SegSharp.Configuration;

/// <summary>model.norm: the normalisation after each convolution.</summary>
public enum NormKind
{
    [OptionName("batch")] Batch,
    [OptionName("group")] Group,
    [OptionName("none")] None,
}
