using static TorchSharp.torch;

namespace SegSharp.Losses;

/// <summary>
/// Multilabel cross-entropy: a sigmoid binary cross-entropy per class and pixel on <see cref="LabelTargets"/>, the mean
/// over valid pixels and classes (each class's terms weighted by its class weight, divided by the sum of the weights, as
/// PyTorch's BCEWithLogitsLoss with a weight), over the whole batch under data parallelism. Ignored pixels count for nothing.
/// </summary>
public sealed class BinaryCrossEntropyLoss(double[]? classWeights = null) : ISegmentationLoss
{
    public string Name => "cross_entropy (binary, per class)";

    public Tensor Compute(Tensor logits, Tensor target, BatchReduction? batch = null)
    {
        using var scope = NewDisposeScope();
        long classes = logits.shape[1];
        ClassWeights.Check(classWeights, classes, "cross_entropy");
        var (truth, valid) = LabelTargets.Expand(target, classes, logits.dtype);
        var weight = classWeights is null
            ? valid.expand_as(logits)
            : valid * tensor(classWeights, new long[] { 1, classes, 1, 1 }, dtype: logits.dtype, device: logits.device);
        var perElement = nn.functional.binary_cross_entropy_with_logits(logits, truth, reduction: nn.Reduction.None);
        var sums = (batch ?? BatchReduction.Local).Sum(stack(new[] { (perElement * weight).sum(), weight.sum() }));
        return (sums[0] / sums[1].clamp_min(1e-12)).MoveToOuterDisposeScope();
    }
}
