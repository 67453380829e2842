using SegSharp.Data;
using static TorchSharp.torch;

namespace SegSharp.Evaluation;

/// <summary>
/// Multilabel counts: for every class, its true positives, false positives, false negatives and true negatives over the
/// pixels not ignored, each class judged on its own (<see cref="LabelBits"/> in both prediction and target).
/// </summary>
public sealed class LabelCounts : IClassCounts
{
    /// <summary>The columns of <see cref="ToArray"/>.</summary>
    public static readonly IReadOnlyList<string> Columns = new[] { "true_positives", "false_positives", "false_negatives", "true_negatives" };

    private readonly Tensor _counts;

    public LabelCounts(int classes, Device? device = null)
    {
        Classes = classes;
        _counts = zeros(classes, 4, dtype: int64, device: device);
    }

    public int Classes { get; }

    public void Add(Tensor prediction, Tensor target)
    {
        using var scope = NewDisposeScope();
        var flatTarget = target.reshape(-1);
        var valid = flatTarget.ne(LabelBits.Ignore).unsqueeze(1);
        var truth = LabelBits.Planes(flatTarget, Classes, 1).logical_and(valid);
        var predicted = LabelBits.Planes(prediction.reshape(-1), Classes, 1).logical_and(valid);
        Tensor Count(Tensor cells) => cells.to(int64).sum(dim: 0);   // sum(0) would bind 0 to a ScalarType and sum everything
        var counts = stack(new[]
        {
            Count(truth.logical_and(predicted)), Count(predicted.logical_and(truth.logical_not())), Count(truth.logical_and(predicted.logical_not())),
            Count(valid.logical_and(truth.logical_or(predicted).logical_not())),
        }, 1);
        _counts.add_(counts.to(_counts.device));
    }

    public long[,] ToArray()
    {
        var flat = _counts.cpu().data<long>().ToArray();
        var result = new long[Classes, 4];
        for (int c = 0; c < Classes; c++)
            for (int k = 0; k < 4; k++) result[c, k] = flat[c * 4 + k];
        return result;
    }

    public SegmentationMetrics Metrics(IReadOnlyList<string>? classNames = null, long[,]? counts = null) =>
        SegmentationMetrics.FromLabels(counts ?? ToArray(), classNames);

    public void Dispose() => _counts.Dispose();
}
