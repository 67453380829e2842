using SegSharp.Data;
using SegSharp.Runtime;

namespace SegSharp.Transforms;

/// <summary>
/// <c>random_scale</c> followed by <c>random_crop</c>, done as one step (the pipeline fuses the pair): the factor and
/// the window are drawn exactly as the two steps draw them, from the same stream in the same order, and only the
/// window's pixels are resampled, each by the same arithmetic, so the result is bit-identical to scaling and then
/// cropping. What it saves is the scaled whole image and mask: about 11 MB of garbage per CamVid sample (960x720x3)
/// that the loader's threads made for every 256x256 crop.
/// </summary>
public sealed record ScaledCrop(RandomScale Scale, RandomCrop Crop) : IJointTransform
{
    public Sample Apply(Sample s, SeededRandom random)
    {
        double factor = random.NextDouble(Scale.Min, Scale.Max);
        int height = Math.Max(1, (int)Math.Round(s.Height * factor));
        int width = Math.Max(1, (int)Math.Round(s.Width * factor));
        if (height == s.Height && width == s.Width) return Crop.Apply(s, random);
        var (top, left) = Crop.Position(height, width, random);
        return s.With(
            Resampling.ResizeBilinearWindow(s.Image, s.Channels, s.Height, s.Width, height, width, top, left, Crop.Height, Crop.Width, 0f),
            Resampling.ResizeNearestWindow(s.Mask, s.Height, s.Width, height, width, top, left, Crop.Height, Crop.Width, s.IgnoreIndex),
            Crop.Height, Crop.Width);
    }
}
