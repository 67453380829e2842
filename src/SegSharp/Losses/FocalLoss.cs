using static TorchSharp.torch;

namespace SegSharp.Losses;

/// <summary>
/// Focal loss (Lin et al. 2017): mean over valid pixels (of the whole batch, under data parallelism) of
/// -α_t (1 - p_t)^γ log p_t, with p_t the softmax probability of the true class and α_t an optional per-class weight
/// (1 when absent).
/// </summary>
public sealed class FocalLoss : ISegmentationLoss
{
    private readonly long _ignoreIndex;
    private readonly double _gamma;
    private readonly double[]? _alpha;

    public FocalLoss(long ignoreIndex, double gamma = 2.0, double[]? alpha = null)
    {
        _ignoreIndex = ignoreIndex;
        _gamma = gamma;
        _alpha = alpha;
    }

    public string Name => "focal";

    public Tensor Compute(Tensor logits, Tensor target, BatchReduction? batch = null)
    {
        using var scope = NewDisposeScope();
        if (_alpha is not null && _alpha.Length != logits.shape[1])
            throw new SegSharpException($"loss focal alpha has {_alpha.Length} values but the model predicts {logits.shape[1]} classes. Give one alpha per " +
                $"class.");
        var validMask = target.ne(_ignoreIndex);
        var valid = validMask.to(logits.dtype);
        var safeTarget = target.where(validMask, zeros_like(target)).unsqueeze(1);
        var logPt = logits.log_softmax(1).gather(1, safeTarget).squeeze(1);
        var pt = logPt.exp();
        var loss = -(1 - pt).pow(_gamma) * logPt;
        if (_alpha is not null)
        {
            using var alpha = tensor(_alpha, dtype: logits.dtype, device: logits.device);
            loss = loss * alpha.index_select(0, safeTarget.flatten()).reshape(loss.shape);
        }
        var sums = (batch ?? BatchReduction.Local).Sum(stack(new[] { (loss * valid).sum(), valid.sum() }));
        return (sums[0] / sums[1].clamp_min(1)).MoveToOuterDisposeScope();
    }
}
