using SegSharp.Data;
using SegSharp.Runtime;

namespace SegSharp.Transforms;

/// <summary>
/// Cuts a window of fixed size at a random position. Images smaller than the window are padded: the image
/// with 0, the mask with the ignore index, so padding never counts as a class.
/// </summary>
public sealed record RandomCrop(int Height, int Width) : IJointTransform
{
    public Sample Apply(Sample s, SeededRandom random)
    {
        int top = s.Height > Height ? random.NextInt(s.Height - Height + 1) : -((Height - s.Height) / 2);
        int left = s.Width > Width ? random.NextInt(s.Width - Width + 1) : -((Width - s.Width) / 2);
        return s.With(
            Resampling.Window(s.Image, s.Channels, s.Height, s.Width, top, left, Height, Width, 0f),
            Resampling.Window(s.Mask, 1, s.Height, s.Width, top, left, Height, Width, s.IgnoreIndex),
            Height, Width);
    }
}
