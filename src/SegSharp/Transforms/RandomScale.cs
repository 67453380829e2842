using SegSharp.Data;
using SegSharp.Runtime;

namespace SegSharp.Transforms;

/// <summary>Scales both sides by one factor drawn uniformly from [Min, Max].</summary>
public sealed record RandomScale(double Min, double Max) : IJointTransform
{
    public Sample Apply(Sample s, SeededRandom random)
    {
        double factor = random.NextDouble(Min, Max);
        int height = Math.Max(1, (int)Math.Round(s.Height * factor));
        int width = Math.Max(1, (int)Math.Round(s.Width * factor));
        return new Resize(height, width).Apply(s, random);
    }
}
