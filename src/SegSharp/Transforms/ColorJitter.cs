using SegSharp.Data;
using SegSharp.Runtime;

namespace SegSharp.Transforms;

/// <summary>
/// Image-only photometric change: brightness offset in [-B, B], contrast factor in [1-C, 1+C] around the mean,
/// gamma in [1-G, 1+G]; results clamped to [0, 1]. The mask is untouched.
/// </summary>
public sealed record ColorJitter(double Brightness, double Contrast, double Gamma) : IJointTransform
{
    public Sample Apply(Sample s, SeededRandom random)
    {
        float offset = (float)random.NextDouble(-Brightness, Brightness);
        float contrast = (float)random.NextDouble(1 - Contrast, 1 + Contrast);
        double gamma = random.NextDouble(1 - Gamma, 1 + Gamma);
        var image = (float[])s.Image.Clone();
        float mean = 0;
        foreach (float v in image) mean += v;
        mean /= Math.Max(1, image.Length);
        for (int i = 0; i < image.Length; i++)
        {
            float v = (image[i] - mean) * contrast + mean + offset;
            v = Math.Clamp(v, 0f, 1f);
            image[i] = Gamma > 0 ? (float)Math.Pow(v, gamma) : v;
        }
        return s with { Image = image };
    }
}
