using SegSharp.Evaluation;

namespace SegSharp.Training;

/// <summary>The report's training curves (loss, validation mIoU/mDice, learning rate) from a run's epoch history.</summary>
internal static class TrainingCurves
{
    /// <param name="bestEpoch">The 1-based epoch of best.ckpt, marked on every chart; null when unknown.</param>
    public static IReadOnlyList<ReportChart> From(IReadOnlyList<EpochRecord> history, int? bestEpoch = null)
    {
        var result = new List<ReportChart>();
        if (history.Count == 0) return result;
        var validated = history.Where(h => h.MeanIoU.HasValue).ToList();
        var loss = new List<ChartSeries> { new("train loss", history.Select(h => ((double)h.Epoch, h.TrainLoss)).ToList(), "#1f77b4") };
        if (validated.Count > 0) loss.Add(new("validation loss", validated.Select(h => ((double)h.Epoch, h.ValidationLoss ?? double.NaN)).ToList(), "#d62728"));
        result.Add(new("loss.png", "Loss per epoch", "loss (weighted sum of the terms)", loss, bestEpoch));
        if (validated.Count > 0)
            result.Add(new("miou.png", "Validation mean IoU and mean Dice per epoch", "score (0 to 1)", new List<ChartSeries>
            {
                new("mean IoU", validated.Select(h => ((double)h.Epoch, h.MeanIoU!.Value)).ToList(), "#2ca02c"),
                new("mean Dice", validated.Select(h => ((double)h.Epoch, h.MeanDice!.Value)).ToList(), "#9467bd"),
            }, bestEpoch));
        result.Add(new("lr.png", "Learning rate at the end of each epoch", "learning rate", new List<ChartSeries> { new("learning rate",
            history.Select(h => ((double)h.Epoch, h.LR)).ToList(), "#ff7f0e") }, bestEpoch));
        return result;
    }
}
