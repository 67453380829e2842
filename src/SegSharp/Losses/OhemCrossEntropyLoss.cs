using static TorchSharp.torch;

namespace SegSharp.Losses;

/// <summary>
/// Online hard example mining cross-entropy (as MMSegmentation's OHEM sampler): only the hard pixels count, those whose
/// predicted probability of their true class is below <c>threshold</c>; when fewer than <c>minKept</c> are, the
/// <c>minKept</c> pixels of lowest probability count instead. The loss is the class-weighted mean cross-entropy of the
/// kept pixels; 0 (connected to the graph) when none is kept. The selection itself carries no gradient.
/// </summary>
/// <remarks>
/// With <c>minKept</c> 0 every pixel is judged on its own, so under data parallelism the kept set, and the loss, are the
/// whole batch's. With <c>minKept</c> &gt; 0 each process keeps at least its share (<c>minKept</c> / processes) of its own
/// pixels: the lowest-probability pixels of each share rather than of the whole batch (docs/distributed.md).
/// </remarks>
public sealed class OhemCrossEntropyLoss(long ignoreIndex, double threshold = 0.7, long minKept = 0, double[]? classWeights = null, int processes = 1)
    : ISegmentationLoss
{
    public string Name => "ohem_cross_entropy";

    public Tensor Compute(Tensor logits, Tensor target, BatchReduction? batch = null)
    {
        using var scope = NewDisposeScope();
        long classes = logits.shape[1];
        ClassWeights.Check(classWeights, classes, "ohem_cross_entropy");
        using var weight = classWeights is null ? null : tensor(classWeights, dtype: logits.dtype, device: logits.device);
        var valid = target.ne(ignoreIndex);
        var safeTarget = target.masked_fill(valid.logical_not(), 0);
        Tensor kept;
        using (no_grad())
        {
            var trueProbability = logits.softmax(1).gather(1, safeTarget.unsqueeze(1)).squeeze(1);
            kept = valid.logical_and(trueProbability.lt(threshold));
            long share = (minKept + processes - 1) / processes;
            long validCount = valid.sum().item<long>();
            if (share > 0 && kept.sum().item<long>() < Math.Min(share, validCount))
            {
                // The share lowest-probability valid pixels: ignored pixels rank last.
                var ranked = trueProbability.masked_fill(valid.logical_not(), 2.0).flatten();
                var lowest = ranked.topk((int)Math.Min(share, validCount), largest: false).indexes;
                kept = zeros_like(ranked, dtype: ScalarType.Bool).index_fill_(0, lowest, true).view_as(valid);
            }
        }
        var perPixel = nn.functional.cross_entropy(logits, safeTarget, weight, -100, nn.Reduction.None);
        var pixelWeight = (weight is null ? ones_like(perPixel) : weight.index_select(0, safeTarget.flatten()).view_as(safeTarget)) * kept.to(logits.dtype);
        var sums = (batch ?? BatchReduction.Local).Sum(stack(new[] { (perPixel * kept.to(logits.dtype)).sum(), pixelWeight.sum() }));
        return (sums[0] / sums[1].clamp_min(1e-12)).MoveToOuterDisposeScope();
    }
}
