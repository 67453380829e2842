using static TorchSharp.torch;

namespace SegSharp.Losses;

/// <summary>
/// A loss on logits [N, C, H, W] float and targets [N, H, W] int64 class indices, returning a scalar. Pixels
/// whose target is the ignore index contribute nothing to the value or the gradient.
/// </summary>
public interface ISegmentationLoss
{
    string Name { get; }

    Tensor Compute(Tensor logits, Tensor target);
}
