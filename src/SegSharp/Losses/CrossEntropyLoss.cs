using static TorchSharp.torch;

namespace SegSharp.Losses;

/// <summary>
/// Pixel-wise cross-entropy with optional class weights (weighted mean, as PyTorch) and label smoothing: the sum of the
/// valid pixels' weighted losses over the sum of their class weights (their count without weights), both taken over
/// the whole batch (under data parallelism too). With every pixel ignored it returns 0 (connected to the graph)
/// instead of NaN. With a border weight w0 &gt; 0 it is the U-Net paper's weighted loss: each pixel's cross-entropy
/// weighted by its class weight plus its <see cref="BorderWeights"/> term, divided by the sum of those weights.
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

    public Tensor Compute(Tensor logits, Tensor target, BatchReduction? batch = null)
    {
        using var scope = NewDisposeScope();
        ClassWeights.Check(_classWeights, logits.shape[1], "cross_entropy");
        using var weight = _classWeights is null ? null : tensor(_classWeights, dtype: logits.dtype, device: logits.device);
        var valid = target.ne(_ignoreIndex);
        var safeTarget = target.masked_fill(valid.logical_not(), 0);
        // Each valid pixel's class weight (1 without weights): PyTorch's weighted mean divides by their sum.
        var pixelWeight = weight is null
            ? valid.to(logits.dtype)
            : weight.index_select(0, safeTarget.flatten()).view_as(target) * valid.to(logits.dtype);
        Tensor numerator, denominator;
        if (_borderWeight > 0)
        {
            var perPixel = nn.functional.cross_entropy(logits, target, null, _ignoreIndex, nn.Reduction.None, _labelSmoothing);
            var omega = pixelWeight + Border(target, logits);
            (numerator, denominator) = ((perPixel * omega).sum(), omega.sum());
        }
        else
        {
            // With reduction none PyTorch weights each pixel's loss (label smoothing included) by its class weight.
            var perPixel = nn.functional.cross_entropy(logits, target, weight, _ignoreIndex, nn.Reduction.None, _labelSmoothing);
            (numerator, denominator) = (perPixel.sum(), pixelWeight.sum());
        }
        var sums = (batch ?? BatchReduction.Local).Sum(stack(new[] { numerator, denominator }));
        return (sums[0] / sums[1].clamp_min(1e-12)).MoveToOuterDisposeScope();
    }

    /// <summary>The U-Net paper's separation term of every pixel, [N, H, W] (it depends on the masks only).</summary>
    private Tensor Border(Tensor target, Tensor logits)
    {
        int n = (int)target.shape[0], h = (int)target.shape[1], w = (int)target.shape[2];
        var masks = target.cpu().data<long>().ToArray();
        var border = new float[masks.Length];
        for (int i = 0; i < n; i++)
        {
            BorderWeights.Compute(masks.AsSpan(i * h * w, h * w), h, w, _borderClass, _ignoreIndex, _borderWeight, _borderSigma)
                .CopyTo(border, i * h * w);
        }
        return tensor(border, new long[] { n, h, w }).to(logits.dtype).to(logits.device);
    }
}
