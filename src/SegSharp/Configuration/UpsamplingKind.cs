using SegSharp.Foundation;

namespace SegSharp.Configuration;

/// <summary>model.upsampling: how the U-Net decoder doubles resolution (learned 2x2 transposed conv, or bilinear + 1x1 conv).</summary>
public enum UpsamplingKind
{
    [OptionName("transpose")] Transpose,
    [OptionName("bilinear")] Bilinear,
}
