using static TorchSharp.torch;

namespace SegSharp.Evaluation;

/// <summary>
/// A C×C count matrix (rows: true class, columns: predicted class) accumulated on the tensors' device with
/// bincount. Every metric derives from it (<see cref="SegmentationMetrics"/>). Pixels whose target is the ignore
/// index never count. Counts are int64, so billions of pixels accumulate exactly.
/// </summary>
public sealed class ConfusionMatrix : IClassCounts
{
    private readonly Tensor _counts;

    public ConfusionMatrix(int classes, long ignoreIndex, Device? device = null)
    {
        Classes = classes;
        IgnoreIndex = ignoreIndex;
        _counts = zeros(classes * classes, dtype: int64, device: device);
    }

    public int Classes { get; }
    public long IgnoreIndex { get; }

    /// <summary>Adds predictions [N, H, W] int64 against targets [N, H, W] int64.</summary>
    public void Add(Tensor prediction, Tensor target)
    {
        using var scope = NewDisposeScope();
        var valid = target.ne(IgnoreIndex).logical_and(target.ge(0)).logical_and(target.lt(Classes));
        var index = target.masked_select(valid) * Classes + prediction.masked_select(valid);
        _counts.add_(index.bincount(null, Classes * Classes));
    }

    /// <summary>Adds another matrix's counts (e.g. from another image or worker).</summary>
    public void Add(long[,] counts)
    {
        using var other = tensor(Flatten(counts), dtype: int64, device: _counts.device);
        _counts.add_(other);
    }

    /// <summary>The counts as [true, predicted].</summary>
    public long[,] ToArray()
    {
        var flat = _counts.cpu().data<long>().ToArray();
        var result = new long[Classes, Classes];
        for (int t = 0; t < Classes; t++)
            for (int p = 0; p < Classes; p++) result[t, p] = flat[t * Classes + p];
        return result;
    }

    public SegmentationMetrics Metrics(IReadOnlyList<string>? classNames = null, long[,]? counts = null) =>
        SegmentationMetrics.From(counts ?? ToArray(), classNames);

    public void Reset() => _counts.zero_();

    public void Dispose() => _counts.Dispose();

    private static long[] Flatten(long[,] counts)
    {
        var flat = new long[counts.Length];
        int i = 0;
        foreach (long v in counts) flat[i++] = v;
        return flat;
    }
}
