using SegSharp.Data;
using SegSharp.Runtime;

namespace SegSharp.Transforms;

/// <summary>Mirrors image and mask with probability <see cref="Probability"/>, left-right or top-bottom.</summary>
public sealed record Flip(bool Horizontal, double Probability) : IJointTransform
{
    public Sample Apply(Sample s, SeededRandom random)
    {
        if (!random.NextBool(Probability)) return s;
        int h = s.Height, w = s.Width;
        Func<int, int, (int, int)> map = Horizontal ? (y, x) => (y, w - 1 - x) : (y, x) => (h - 1 - y, x);
        return s.With(Resampling.Remap(s.Image, s.Channels, h, w, h, w, map), Resampling.Remap(s.Mask, 1, h, w, h, w, map), h, w);
    }
}
