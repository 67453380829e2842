using SegSharp.Data;
using SegSharp.Runtime;

namespace SegSharp.Transforms;

/// <summary>Cuts the central window (padding as <see cref="RandomCrop"/> does); deterministic, for validation.</summary>
public sealed record CenterCrop(int Height, int Width) : IJointTransform
{
    public Sample Apply(Sample s, SeededRandom random)
    {
        int top = (s.Height - Height) / 2, left = (s.Width - Width) / 2;
        return s.With(
            Resampling.Window(s.Image, s.Channels, s.Height, s.Width, top, left, Height, Width, 0f),
            Resampling.Window(s.Mask, 1, s.Height, s.Width, top, left, Height, Width, s.IgnoreIndex),
            Height, Width);
    }
}
