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

    /// <summary>
    /// The pipeline a config list describes, in order; a <c>random_scale</c> directly followed by a <c>random_crop</c> becomes one
    /// <see cref="ScaledCrop"/> (same samples, bit for bit, without making the scaled whole image).
    /// </summary>
    public static TransformPipeline Create(IEnumerable<TransformSpec> specs)
    {
        var steps = new List<IJointTransform>();
        foreach (var step in specs.Select(Create))
        {
            if (step is RandomCrop crop && steps.Count > 0 && steps[^1] is RandomScale scale) steps[^1] = new ScaledCrop(scale, crop);
            else steps.Add(step);
        }
        return new TransformPipeline(steps);
    }

    /// <summary>Only the image-only intensity steps (normalize) of <paramref name="specs"/>: what prediction applies to any image.</summary>
    public static TransformPipeline Photometric(IEnumerable<TransformSpec> specs) => Create(specs.OfType<NormalizeSpec>());

    /// <summary>
    /// Refuses a normalize step whose mean or std lists neither one value (every channel) nor one per channel of
    /// <paramref name="description"/>: a longer list would have its extra values ignored, a shorter one would fail mid-epoch.
    /// </summary>
    public static void CheckChannels(IEnumerable<TransformSpec> specs, string key, DatasetDescription description)
    {
        int channels = description.Channels;
        foreach (var spec in specs.OfType<NormalizeSpec>())
        {
            foreach (var (name, values) in new[] { ("mean", spec.Mean), ("std", spec.Std) })
                if (values.Length != 1 && values.Length != channels)
                    throw new SegSharpException($"{key}: normalize {name} has {values.Length} values but dataset '{description.SourcePath}' has channels: " +
                        $"{channels}. Give {(channels == 1 ? "one value" : $"one value (for every channel) or {channels}")}.");
        }
    }

    /// <summary>One line per spec. C# cannot close a record hierarchy, so the default arm exists; a test builds every kind.</summary>
    public static IJointTransform Create(TransformSpec spec) => spec switch
    {
        ResizeSpec s => new Resize(s.Size[0], s.Size[1]),
        RandomCropSpec s => new RandomCrop(s.Size[0], s.Size[1]),
        CenterCropSpec s => new CenterCrop(s.Size[0], s.Size[1]),
        RandomScaleSpec s => new RandomScale(s.Range[0], s.Range[1]),
        HorizontalFlipSpec s => new Flip(true, s.P),
        VerticalFlipSpec s => new Flip(false, s.P),
        Rotate90Spec s => new RandomRotate90(s.P),
        ElasticSpec s => new ElasticDeform(s.Grid, s.Sigma, s.P),
        ColorJitterSpec s => new ColorJitter(s.Brightness, s.Contrast, s.Gamma),
        NormalizeSpec s => new Normalize(s.Mean, s.Std),
        _ => throw new ArgumentException($"No transform is built from {spec.GetType().Name}.", nameof(spec)),
    };
}
