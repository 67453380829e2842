using SegSharp.Data;
using SegSharp.Runtime;

namespace SegSharp.Transforms;

/// <summary>
/// A transform of an image and its mask together: geometry moves both identically, colour touches the image
/// only, masks are only ever resampled by nearest neighbour. Implementations are immutable and draw every
/// random decision from the generator they are handed, so a sample's augmentation depends only on its seed.
/// </summary>
public interface IJointTransform
{
    Sample Apply(Sample sample, SeededRandom random);
}
