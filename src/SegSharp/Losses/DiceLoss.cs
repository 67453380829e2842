using static TorchSharp.torch;

namespace SegSharp.Losses;

/// <summary>
/// Soft Dice loss, 1 - mean_c (2·Σ p·g + s) / (Σ p + Σ g + s), sums over the batch and all valid pixels (batch
/// Dice, as nnU-Net): under data parallelism over the whole batch, not each process's share. Multiclass: p = softmax
/// over C channels, one term per class (class 0 left out with excludeBackground). Binary: logits have one channel,
/// p = sigmoid, target 1 is foreground. Multilabel: p = sigmoid per class, truth from <see cref="LabelTargets"/>.
/// </summary>
public sealed class DiceLoss : ISegmentationLoss
{
    private readonly long _ignoreIndex;
    private readonly double _smooth;
    private readonly bool _excludeBackground;
    private readonly bool _binary;
    private readonly bool _multiLabel;

    public DiceLoss(long ignoreIndex, double smooth = 1.0, bool excludeBackground = false, bool binary = false, bool multiLabel = false)
    {
        _multiLabel = multiLabel;
        _ignoreIndex = ignoreIndex;
        _smooth = smooth;
        _excludeBackground = excludeBackground;
        _binary = binary;
    }

    public string Name => "dice";

    public Tensor Compute(Tensor logits, Tensor target, BatchReduction? batch = null)
    {
        using var scope = NewDisposeScope();
        var valid = target.ne(_ignoreIndex).unsqueeze(1).to(logits.dtype);
        var safeTarget = target.where(target.ne(_ignoreIndex), zeros_like(target));
        Tensor probabilities, truth;
        if (_multiLabel)
        {
            var (expanded, labelled) = LabelTargets.Expand(target, logits.shape[1], logits.dtype);
            probabilities = logits.sigmoid() * labelled;
            truth = expanded;
        }
        else if (_binary)
        {
            if (logits.shape[1] != 1)
                throw new SegSharpException($"Dice mode binary needs logits with 1 channel but got {logits.shape[1]}; use mode: multiclass.");
            probabilities = logits.sigmoid() * valid;
            truth = safeTarget.unsqueeze(1).to(logits.dtype) * valid;
        }
        else
        {
            long classes = logits.shape[1];
            probabilities = logits.softmax(1) * valid;
            truth = nn.functional.one_hot(safeTarget, classes).permute(0, 3, 1, 2).to(logits.dtype) * valid;
            if (_excludeBackground && classes > 1)
            {
                probabilities = probabilities[.., 1..];
                truth = truth[.., 1..];
            }
        }
        var dims = new long[] { 0, 2, 3 };
        long terms = probabilities.shape[1];
        // Intersections and cardinalities of the whole batch, in one reduction.
        var sums = (batch ?? BatchReduction.Local).Sum(cat(new[] { (probabilities * truth).sum(dims), probabilities.sum(dims) + truth.sum(dims) }));
        var intersection = sums[..(int)terms];
        var cardinality = sums[(int)terms..];
        var dice = (2 * intersection + _smooth) / (cardinality + _smooth).clamp_min(1e-7);
        return (1 - dice.mean()).MoveToOuterDisposeScope();
    }
}
