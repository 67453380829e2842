using SegSharp.Runtime;

namespace SegSharp.Data;

/// <summary>
/// What the loader applies to each sample it decodes. Declared here, where the loader meets it, so Data needs
/// nothing from the later Transforms stage; <c>Transforms.TransformPipeline</c> implements it.
/// </summary>
public interface ISampleTransform
{
    /// <summary>Transforms one sample, drawing every random decision from <paramref name="random"/>.</summary>
    Sample Apply(Sample sample, SeededRandom random);
}
