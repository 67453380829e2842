using SegSharp.Data;
using SegSharp.Runtime;

namespace SegSharp.Transforms;

/// <summary>Resizes to a fixed size: bilinear for the image, nearest for the mask.</summary>
public sealed record Resize(int Height, int Width) : IJointTransform
{
    public Sample Apply(Sample s, SeededRandom random)
    {
        if (s.Height == Height && s.Width == Width) return s;
        return s.With(Resampling.ResizeBilinear(s.Image, s.Channels, s.Height, s.Width, Height, Width),
            Resampling.ResizeNearest(s.Mask, s.Height, s.Width, Height, Width), Height, Width);
    }
}
