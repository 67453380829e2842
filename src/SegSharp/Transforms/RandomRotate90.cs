using SegSharp.Data;
using SegSharp.Runtime;

namespace SegSharp.Transforms;

/// <summary>With probability <see cref="Probability"/>, turns both by 90°, 180° or 270° counter-clockwise (equally likely).</summary>
public sealed record RandomRotate90(double Probability) : IJointTransform
{
    public Sample Apply(Sample s, SeededRandom random)
    {
        if (!random.NextBool(Probability)) return s;
        int quarterTurns = 1 + random.NextInt(3);
        return Rotate(s, quarterTurns);
    }

    /// <summary>Counter-clockwise rotation by k quarter turns.</summary>
    public static Sample Rotate(Sample s, int quarterTurns)
    {
        int h = s.Height, w = s.Width;
        (int nh, int nw) = quarterTurns % 2 == 0 ? (h, w) : (w, h);
        Func<int, int, (int, int)> map = (quarterTurns % 4) switch
        {
            1 => (y, x) => (x, w - 1 - y),
            2 => (y, x) => (h - 1 - y, w - 1 - x),
            3 => (y, x) => (h - 1 - x, y),
            _ => (y, x) => (y, x),
        };
        return s.With(Resampling.Remap(s.Image, s.Channels, h, w, nh, nw, map), Resampling.Remap(s.Mask, 1, h, w, nh, nw, map), nh, nw);
    }
}
