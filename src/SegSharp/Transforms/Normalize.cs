using SegSharp.Data;
using SegSharp.Runtime;

namespace SegSharp.Transforms;

/// <summary>Image-only: (x - mean_c) / std_c per channel. One value applies to every channel.</summary>
public sealed record Normalize(double[] Mean, double[] Std) : IJointTransform
{
    public Sample Apply(Sample s, SeededRandom random)
    {
        var image = new float[s.Image.Length];
        int plane = s.Height * s.Width;
        for (int c = 0; c < s.Channels; c++)
        {
            float mean = (float)Mean[Mean.Length == 1 ? 0 : c], scale = (float)(1.0 / Std[Std.Length == 1 ? 0 : c]);
            for (int i = c * plane; i < (c + 1) * plane; i++) image[i] = (s.Image[i] - mean) * scale;
        }
        return s with { Image = image };
    }
}
