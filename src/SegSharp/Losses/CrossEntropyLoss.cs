using static TorchSharp.torch;

namespace SegSharp.Losses;

/// <summary>
/// Pixel-wise cross-entropy with optional class weights (weighted mean, as PyTorch) and label smoothing.
/// With every pixel ignored it returns 0 (connected to the graph) instead of NaN.
/// </summary>
public sealed class CrossEntropyLoss : ISegmentationLoss
{
    private readonly double[]? _classWeights;
    private readonly long _ignoreIndex;
    private readonly double _labelSmoothing;

    public CrossEntropyLoss(long ignoreIndex, double[]? classWeights = null, double labelSmoothing = 0)
    {
        _ignoreIndex = ignoreIndex;
        _classWeights = classWeights;
        _labelSmoothing = labelSmoothing;
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
        var loss = nn.functional.cross_entropy(logits, target, weight, _ignoreIndex, nn.Reduction.Mean, _labelSmoothing);
        return loss.MoveToOuterDisposeScope();
    }
}
