namespace SegSharp.Evaluation;

/// <summary>
/// Figures from one confusion matrix (rows: truth, columns: prediction).
/// Per class c with TP, FP, FN: IoU = TP/(TP+FP+FN), Dice = 2TP/(2TP+FP+FN), precision = TP/(TP+FP),
/// recall = TP/(TP+FN). Empty-class policy: a class absent from both truth and prediction has no IoU or Dice and
/// is left out of the means (never NaN, never counted as 1 or 0); <see cref="ExcludedClasses"/> names them.
/// A class predicted but absent from truth has IoU 0. Precision is 0 when a present class was never predicted
/// (scikit-learn's zero_division=0); recall is undefined for classes absent from truth.
/// </summary>
public sealed record SegmentationMetrics
{
    public required IReadOnlyList<ClassMetrics> PerClass { get; init; }
    public required double MeanIoU { get; init; }
    public required double MeanDice { get; init; }
    public required double PixelAccuracy { get; init; }
    public required double MeanClassAccuracy { get; init; }

    /// <summary>The mean of the classes' precision (classes whose precision is undefined left out).</summary>
    public double MeanPrecision { get; init; }
    public required double FrequencyWeightedIoU { get; init; }
    public required long Pixels { get; init; }
    public required IReadOnlyList<string> ExcludedClasses { get; init; }
    public required long[,] Confusion { get; init; }

    /// <summary>Multilabel: <see cref="Confusion"/> is [class, TP/FP/FN/TN] (<see cref="LabelCounts"/>), not [truth, prediction].</summary>
    public bool MultiLabel { get; init; }

    private static ClassMetrics Class(string name, long tp, long fp, long fn)
    {
        bool seen = tp + fp + fn > 0;
        return new ClassMetrics(name, tp, fp, fn,
            IoU: seen ? (double)tp / (tp + fp + fn) : null,
            Dice: seen ? 2.0 * tp / (2 * tp + fp + fn) : null,
            Precision: tp + fp > 0 ? (double)tp / (tp + fp) : tp + fn > 0 ? 0 : null,
            Recall: tp + fn > 0 ? (double)tp / (tp + fn) : null);
    }

    private static SegmentationMetrics Summarise(List<ClassMetrics> perClass, long[,] counts, long pixels, double accuracy, long support)
    {
        double Mean(Func<ClassMetrics, double?> pick)
        {
            var values = perClass.Select(pick).Where(v => v.HasValue).Select(v => v!.Value).ToList();
            return values.Count == 0 ? 0 : values.Average();
        }
        return new SegmentationMetrics
        {
            PerClass = perClass,
            MeanIoU = Mean(m => m.IoU),
            MeanDice = Mean(m => m.Dice),
            PixelAccuracy = accuracy,
            MeanClassAccuracy = Mean(m => m.Recall),
            MeanPrecision = Mean(m => m.Precision),
            FrequencyWeightedIoU = support == 0 ? 0 : perClass.Where(m => m.IoU.HasValue).Sum(m => (double)m.Support / support * m.IoU!.Value),
            Pixels = pixels,
            ExcludedClasses = perClass.Where(m => m.IoU is null).Select(m => m.Name).ToList(),
            Confusion = counts,
        };
    }

    public static SegmentationMetrics From(long[,] confusion, IReadOnlyList<string>? names = null)
    {
        int classes = confusion.GetLength(0);
        long total = 0, correct = 0;
        var perClass = new List<ClassMetrics>();
        for (int c = 0; c < classes; c++)
        {
            long tp = confusion[c, c], fp = 0, fn = 0;
            for (int o = 0; o < classes; o++)
            {
                if (o == c) continue;
                fp += confusion[o, c];
                fn += confusion[c, o];
            }
            total += tp + fn;
            correct += tp;
            perClass.Add(Class(names?[c] ?? $"class{c}", tp, fp, fn));
        }
        return Summarise(perClass, confusion, total, total == 0 ? 0 : (double)correct / total, total);
    }

    /// <summary>
    /// Figures from multilabel counts [class, TP/FP/FN/TN], each class judged on its own with the same definitions and
    /// empty-class policy as <see cref="From"/>. Pixel accuracy is the share of correct (pixel, class) decisions;
    /// <see cref="Pixels"/> the labelled pixels.
    /// </summary>
    public static SegmentationMetrics FromLabels(long[,] counts, IReadOnlyList<string>? names = null)
    {
        int classes = counts.GetLength(0);
        var perClass = new List<ClassMetrics>();
        long decisions = 0, correct = 0, support = 0;
        for (int c = 0; c < classes; c++)
        {
            long tp = counts[c, 0], fp = counts[c, 1], fn = counts[c, 2], tn = counts[c, 3];
            decisions += tp + fp + fn + tn;
            correct += tp + tn;
            support += tp + fn;
            perClass.Add(Class(names?[c] ?? $"class{c}", tp, fp, fn) with { TrueNegatives = tn });
        }
        return Summarise(perClass, counts, pixels: classes == 0 ? 0 : counts[0, 0] + counts[0, 1] + counts[0, 2] + counts[0, 3],
            accuracy: decisions == 0 ? 0 : (double)correct / decisions, support) with { MultiLabel = true };
    }
}
