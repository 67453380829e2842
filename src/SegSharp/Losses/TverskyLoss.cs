using static TorchSharp.torch;

namespace SegSharp.Losses;

/// <summary>
/// Tversky loss (Salehi et al. 2017), mean over classes of (1 - TI_c)^γ with
/// TI_c = (TP_c + s) / (TP_c + α·FP_c + β·FN_c + s), where TP = Σ p·g, FP = Σ p·(1 - g), FN = Σ (1 - p)·g over the valid
/// pixels of the whole batch (p = softmax). β &gt; α weighs missed pixels more than false alarms, which favours recall
/// of small and rare classes; α = β = 0.5 is soft Dice, α = β = 1 soft Jaccard. γ &lt; 1 is the focal Tversky loss
/// (Abraham and Khan 2019 use γ = 0.75). Under data parallelism the sums are the whole batch's.
/// </summary>
public sealed class TverskyLoss(long ignoreIndex, double alpha = 0.3, double beta = 0.7, double gamma = 1.0, double smooth = 1.0,
    bool excludeBackground = false) : ISegmentationLoss
{
    public string Name => "tversky";

    public Tensor Compute(Tensor logits, Tensor target, BatchReduction? batch = null)
    {
        using var scope = NewDisposeScope();
        long classes = logits.shape[1];
        var valid = target.ne(ignoreIndex).unsqueeze(1).to(logits.dtype);
        var safeTarget = target.where(target.ne(ignoreIndex), zeros_like(target));
        var p = logits.softmax(1) * valid;
        var g = nn.functional.one_hot(safeTarget, classes).permute(0, 3, 1, 2).to(logits.dtype) * valid;
        if (excludeBackground && classes > 1)
        {
            p = p[.., 1..];
            g = g[.., 1..];
        }
        var dims = new long[] { 0, 2, 3 };
        long terms = p.shape[1];
        // TP, Σp and Σg of the whole batch in one reduction: FP = Σp - TP, FN = Σg - TP.
        var sums = (batch ?? BatchReduction.Local).Sum(cat(new[] { (p * g).sum(dims), p.sum(dims), g.sum(dims) }));
        var tp = sums[..(int)terms];
        var fp = sums[(int)terms..(int)(2 * terms)] - tp;
        var fn = sums[(int)(2 * terms)..] - tp;
        var index = (tp + smooth) / (tp + alpha * fp + beta * fn + smooth).clamp_min(1e-7);
        var loss = (1 - index).clamp_min(0);
        return (gamma == 1.0 ? loss : loss.pow(gamma)).mean().MoveToOuterDisposeScope();
    }
}
