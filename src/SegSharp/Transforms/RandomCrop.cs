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
        var (top, left) = Position(s.Height, s.Width, random);
        return s.With(
            Resampling.Window(s.Image, s.Channels, s.Height, s.Width, top, left, Height, Width, 0f),
            Resampling.Window(s.Mask, 1, s.Height, s.Width, top, left, Height, Width, s.IgnoreIndex),
            Height, Width);
    }

    /// <summary>The window's top-left corner in an image of <paramref name="height"/> x <paramref name="width"/> (negative: padded), drawn top first.</summary>
    public (int Top, int Left) Position(int height, int width, SeededRandom random)
    {
        int top = height > Height ? random.NextInt(height - Height + 1) : -((Height - height) / 2);
        int left = width > Width ? random.NextInt(width - Width + 1) : -((Width - width) / 2);
        return (top, left);
    }
}
