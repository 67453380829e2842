using static TorchSharp.torch;

namespace SegSharp.Losses;

/// <summary>
/// A loss on logits [N, C, H, W] float and targets [N, H, W] int64 class indices, returning a scalar. Pixels
/// whose target is the ignore index contribute nothing to the value or the gradient.
/// </summary>
public interface ISegmentationLoss
{
    string Name { get; }

    /// <param name="batch">
    /// Where the batch-level sums come from (<see cref="BatchReduction.Local"/> when null): under data parallelism the
    /// loss of the whole batch, of which this process holds a share. Every batch-level sum the loss takes goes through it.
    /// </param>
    Tensor Compute(Tensor logits, Tensor target, BatchReduction? batch = null);
}
