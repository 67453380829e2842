using SegSharp.Configuration;
using SegSharp.Data;
using SegSharp.Runtime;

namespace SegSharp.Transforms;

/// <summary>An ordered list of joint transforms, built from config and applied in order.</summary>
public sealed class TransformPipeline : ISampleTransform
{
    public TransformPipeline(IReadOnlyList<IJointTransform> steps) => Steps = steps;

    public IReadOnlyList<IJointTransform> Steps { get; }

    public static TransformPipeline Empty { get; } = new(Array.Empty<IJointTransform>());

    public Sample Apply(Sample sample, SeededRandom random)
    {
        foreach (var step in Steps) sample = step.Apply(sample, random);
        return sample;
    }

    /// <summary>The pipeline a config list describes, in order.</summary>
    public static TransformPipeline Create(IEnumerable<TransformConfig> configs) => new(configs.Select(Create).ToList());

    /// <summary>Only the image-only intensity steps (normalize) of <paramref name="configs"/>: what prediction applies to any image.</summary>
    public static TransformPipeline Photometric(IEnumerable<TransformConfig> configs) =>
        Create(configs.Where(c => c.Kind == TransformKind.Normalize));

    public static IJointTransform Create(TransformConfig c) => c.Kind switch
    {
        TransformKind.Resize => new Resize(c.Size[0], c.Size[1]),
        TransformKind.RandomCrop => new RandomCrop(c.Size[0], c.Size[1]),
        TransformKind.CenterCrop => new CenterCrop(c.Size[0], c.Size[1]),
        TransformKind.RandomScale => new RandomScale(c.Range[0], c.Range[1]),
        TransformKind.HorizontalFlip => new Flip(true, c.P),
        TransformKind.VerticalFlip => new Flip(false, c.P),
        TransformKind.Rotate90 => new RandomRotate90(c.P),
        TransformKind.Elastic => new ElasticDeform(c.Grid, c.Sigma, c.P),
        TransformKind.ColorJitter => new ColorJitter(c.Brightness, c.Contrast, c.Gamma),
        TransformKind.Normalize => new Normalize(c.Mean, c.Std),
    };
}
