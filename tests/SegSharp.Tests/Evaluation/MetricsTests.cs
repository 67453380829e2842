using SegSharp.Evaluation;
using static TorchSharp.torch;

namespace SegSharp.Tests.Evaluation;

public class MetricsTests
{
    private const long Ignore = 255;

    private static SegmentationMetrics Compute(long[] truth, long[] predicted, int classes)
    {
        using var cm = new ConfusionMatrix(classes, Ignore);
        using var t = tensor(truth, new long[] { 1, truth.Length });
        using var p = tensor(predicted, new long[] { 1, predicted.Length });
        cm.Add(p, t);
        return cm.Metrics();
    }

    /// <summary>scikit-learn's definitions, per class, from the label lists directly (no confusion matrix).</summary>
    private static (double Jaccard, double F1, double Precision, double Recall) SklearnStyle(long[] truth, long[] predicted, int c)
    {
        int tp = 0, fp = 0, fn = 0;
        for (int i = 0; i < truth.Length; i++)
        {
            if (truth[i] == Ignore) continue;
            if (truth[i] == c && predicted[i] == c) tp++;
            else if (truth[i] != c && predicted[i] == c) fp++;
            else if (truth[i] == c && predicted[i] != c) fn++;
        }
        return ((double)tp / (tp + fp + fn), 2.0 * tp / (2 * tp + fp + fn), tp + fp == 0 ? 0 : (double)tp / (tp + fp), (double)tp / (tp + fn));
    }

    [Fact]
    public void Per_class_figures_match_the_scikit_learn_definitions()
    {
        long[] truth = { 0, 0, 1, 1, 2, 2, 2, 0, 1, 2, Ignore, 1 };
        long[] predicted = { 0, 1, 1, 1, 2, 0, 2, 0, 2, 2, 1, 0 };
        var m = Compute(truth, predicted, 3);
        for (int c = 0; c < 3; c++)
        {
            var expected = SklearnStyle(truth, predicted, c);
            Assert.Equal(expected.Jaccard, m.PerClass[c].IoU!.Value, 12);
            Assert.Equal(expected.F1, m.PerClass[c].Dice!.Value, 12);
            Assert.Equal(expected.Precision, m.PerClass[c].Precision!.Value, 12);
            Assert.Equal(expected.Recall, m.PerClass[c].Recall!.Value, 12);
        }
        // accuracy_score over non-ignored pixels: 7 of 11 right.
        Assert.Equal(7.0 / 11, m.PixelAccuracy, 12);
        Assert.Equal(Enumerable.Range(0, 3).Average(c => SklearnStyle(truth, predicted, c).Jaccard), m.MeanIoU, 12);
        Assert.Equal(11, m.Pixels);
    }

    [Fact]
    public void Hand_computed_two_class_example()
    {
        // truth:     1 1 1 0 0 0 0 0
        // predicted: 1 1 0 1 0 0 0 0   => class 1: TP 2, FP 1, FN 1; class 0: TP 4, FP 1, FN 1
        var m = Compute(new long[] { 1, 1, 1, 0, 0, 0, 0, 0 }, new long[] { 1, 1, 0, 1, 0, 0, 0, 0 }, 2);
        Assert.Equal(new long[,] { { 4, 1 }, { 1, 2 } }, m.Confusion);
        Assert.Equal(0.5, m.PerClass[1].IoU);
        Assert.Equal(4.0 / 6, m.PerClass[0].IoU!.Value, 12);
        Assert.Equal(2.0 / 3, m.PerClass[1].Dice!.Value, 12);
        Assert.Equal(0.75, m.PixelAccuracy);
        Assert.Equal((0.8 + 2.0 / 3) / 2, m.MeanClassAccuracy, 12);
        Assert.Equal(5.0 / 8 * (4.0 / 6) + 3.0 / 8 * 0.5, m.FrequencyWeightedIoU, 12);
    }

    [Fact]
    public void A_class_absent_from_truth_and_prediction_is_excluded_from_means_not_NaN()
    {
        var m = Compute(new long[] { 0, 0, 1, 1 }, new long[] { 0, 1, 1, 1 }, 3);
        Assert.Null(m.PerClass[2].IoU);
        Assert.Null(m.PerClass[2].Dice);
        Assert.Equal(new[] { "class2" }, m.ExcludedClasses);
        Assert.Equal((0.5 + 2.0 / 3) / 2, m.MeanIoU, 12);
        Assert.False(double.IsNaN(m.MeanDice));
    }

    [Fact]
    public void A_predicted_class_absent_from_truth_counts_as_zero_IoU()
    {
        var m = Compute(new long[] { 0, 0, 0, 0 }, new long[] { 0, 0, 0, 1 }, 2);
        Assert.Equal(0.0, m.PerClass[1].IoU);
        Assert.Null(m.PerClass[1].Recall);
        Assert.Equal((0.75 + 0) / 2, m.MeanIoU, 12);
    }

    [Fact]
    public void Ignored_pixels_never_count_whatever_is_predicted_there()
    {
        var withIgnored = Compute(new long[] { 0, 1, Ignore, Ignore }, new long[] { 0, 1, 1, 0 }, 2);
        var without = Compute(new long[] { 0, 1 }, new long[] { 0, 1 }, 2);
        Assert.Equal(without.Confusion, withIgnored.Confusion);
        Assert.Equal(1.0, withIgnored.PixelAccuracy);
    }

    [Fact]
    public void Accumulating_batches_equals_one_big_batch()
    {
        long[] truth = { 0, 1, 2, 2, 1, 0, 0, 2 }, predicted = { 0, 2, 2, 1, 1, 0, 1, 2 };
        using var cm = new ConfusionMatrix(3, Ignore);
        for (int i = 0; i < truth.Length; i += 2)
        {
            using var t = tensor(truth[i..(i + 2)], new long[] { 1, 2 });
            using var p = tensor(predicted[i..(i + 2)], new long[] { 1, 2 });
            cm.Add(p, t);
        }
        Assert.Equal(Compute(truth, predicted, 3).Confusion, cm.ToArray());
    }
}
