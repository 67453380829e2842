using static TorchSharp.torch;

namespace SegSharp.Evaluation;

/// <summary>Pixel counts every metric derives from: a confusion matrix (multiclass) or per-class TP/FP/FN/TN (multilabel).</summary>
public interface IClassCounts : IDisposable
{
    /// <summary>Adds predicted labels against target labels (same shape, int64).</summary>
    void Add(Tensor prediction, Tensor target);

    /// <summary>The counts as a table (what <see cref="Metrics"/> reads; summed element-wise across processes).</summary>
    long[,] ToArray();

    /// <summary>The figures of a table of these counts (this one's by default).</summary>
    SegmentationMetrics Metrics(IReadOnlyList<string>? classNames = null, long[,]? counts = null);
}
