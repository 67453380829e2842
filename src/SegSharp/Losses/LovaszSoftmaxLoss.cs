using static TorchSharp.torch;

namespace SegSharp.Losses;

/// <summary>
/// Lovász-softmax loss (Berman et al. 2018): a convex surrogate of 1 - IoU, optimised directly. For each class present
/// in an image, the valid pixels' errors |g - p_c| (p = softmax) sorted in decreasing order are dotted with the gradient
/// of the Lovász extension of the Jaccard loss, Δ_i = J(i) - J(i - 1) with J(i) = 1 - (G - Σ_{j≤i} g_j) / (G + Σ_{j≤i} (1 - g_j))
/// (G the class's pixels); the loss is the mean over the classes present, per image, then the mean over images. Per
/// image (the paper's per_image option) so that it is a sum over images: under data parallelism the whole batch's.
/// </summary>
public sealed class LovaszSoftmaxLoss(long ignoreIndex) : ISegmentationLoss
{
    public string Name => "lovasz_softmax";

    public Tensor Compute(Tensor logits, Tensor target, BatchReduction? batch = null)
    {
        using var scope = NewDisposeScope();
        long classes = logits.shape[1];
        var probabilities = logits.softmax(1);
        Tensor total = logits.sum() * 0; // connected to the graph even when no image has a valid pixel
        long images = logits.shape[0];
        for (long i = 0; i < images; i++)
        {
            var valid = target[i].ne(ignoreIndex).flatten();
            var labels = target[i].flatten().masked_select(valid);
            if (labels.shape[0] == 0) continue;
            var p = probabilities[i].reshape(classes, -1).index_select(1, valid.nonzero().squeeze(1));
            Tensor? sum = null;
            long present = 0;
            for (long c = 0; c < classes; c++)
            {
                var truth = labels.eq(c).to(logits.dtype);
                if (truth.sum().item<float>() == 0) continue;
                var errors = (truth - p[c]).abs();
                var (sorted, order) = errors.sort(descending: true);
                var term = sorted.dot(JaccardGradient(truth.index_select(0, order)));
                sum = sum is null ? term : sum + term;
                present++;
            }
            if (sum is not null) total = total + sum / present;
        }
        var sums = (batch ?? BatchReduction.Local).Sum(stack(new[] { total, tensor((float)images, dtype: logits.dtype, device: logits.device) }));
        return (sums[0] / sums[1].clamp_min(1)).MoveToOuterDisposeScope();
    }

    /// <summary>Δ_i = J(i) - J(i - 1) for the ground truth in error order (no gradient flows through it).</summary>
    private static Tensor JaccardGradient(Tensor sortedTruth)
    {
        using var noGrad = no_grad();
        var total = sortedTruth.sum();
        var intersection = total - sortedTruth.cumsum(0);
        var union = total + (1 - sortedTruth).cumsum(0);
        var jaccard = 1 - intersection / union;
        if (jaccard.shape[0] > 1) jaccard = cat(new[] { jaccard[..1], jaccard[1..] - jaccard[..^1] });
        return jaccard;
    }
}
