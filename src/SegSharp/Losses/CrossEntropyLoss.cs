using static TorchSharp.torch;

namespace SegSharp.Losses;

/// <summary>
/// Pixel-wise cross-entropy with optional class weights (weighted mean, as PyTorch) and label smoothing.
/// With every pixel ignored it returns 0 (connected to the graph) instead of NaN. With a border weight w0 &gt; 0 it
/// is the U-Net paper's weighted loss: each pixel's cross-entropy weighted by its class weight plus its
/// <see cref="BorderWeights"/> term, divided by the sum of those weights.
/// </summary>
public sealed class CrossEntropyLoss : ISegmentationLoss
{
    private readonly double[]? _classWeights;
    private readonly long _ignoreIndex;
    private readonly double _labelSmoothing;

    private readonly double _borderWeight;
    private readonly double _borderSigma;
    private readonly long _borderClass;

    public CrossEntropyLoss(long ignoreIndex, double[]? classWeights = null, double labelSmoothing = 0, double borderWeight = 0, double borderSigma = 5,
        long borderClass = 1)
    {
        _ignoreIndex = ignoreIndex;
        _classWeights = classWeights;
        _labelSmoothing = labelSmoothing;
        _borderWeight = borderWeight;
        _borderSigma = borderSigma;
        _borderClass = borderClass;
    }

    public string Name => "cross_entropy";

    public Tensor Compute(Tensor logits, Tensor target)
    {
        using var scope = NewDisposeScope();
        if (_classWeights is not null && _classWeights.Length != logits.shape[1])
            throw new SegSharpException($"loss cross_entropy class_weights has {_classWeights.Length} values but the model predicts {logits.shape[1]} " +
                $"classes. Give one weight per class.");
        using var weight = _classWeights is null ? null : tensor(_classWeights, dtype: logits.dtype, device: logits.device);
        var valid = target.ne(_ignoreIndex);
        if (!valid.any().item<bool>()) return (logits.sum() * 0).MoveToOuterDisposeScope();
        if (_borderWeight > 0) return BorderWeighted(logits, target, weight, valid).MoveToOuterDisposeScope();
        var loss = nn.functional.cross_entropy(logits, target, weight, _ignoreIndex, nn.Reduction.Mean, _labelSmoothing);
        return loss.MoveToOuterDisposeScope();
    }

    private Tensor BorderWeighted(Tensor logits, Tensor target, Tensor? classWeight, Tensor valid)
    {
        var perPixel = nn.functional.cross_entropy(logits, target, null, _ignoreIndex, nn.Reduction.None, _labelSmoothing);
        var safeTarget = target.masked_fill(valid.logical_not(), 0);
        var pixelWeight = classWeight is null
            ? valid.to(logits.dtype)
            : classWeight.index_select(0, safeTarget.flatten()).view_as(target) * valid.to(logits.dtype);
        int n = (int)target.shape[0], h = (int)target.shape[1], w = (int)target.shape[2];
        var masks = target.cpu().data<long>().ToArray();
        var border = new float[masks.Length];
        for (int i = 0; i < n; i++)
        {
            BorderWeights.Compute(masks.AsSpan(i * h * w, h * w), h, w, _borderClass, _ignoreIndex, _borderWeight, _borderSigma)
                .CopyTo(border, i * h * w);
        }
        var omega = pixelWeight + tensor(border, new long[] { n, h, w }).to(logits.dtype).to(logits.device);
        return (perPixel * omega).sum() / omega.sum().clamp_min(1e-12);
    }
}
