using SegSharp.Configuration;
using SegSharp.Evaluation;

namespace SegSharp.Training;

/// <summary>
/// The trainer's end-of-epoch decision: validates every <c>train.val_every</c> epochs and on the last one (each process its
/// share, summed), fills the epoch's validation figures in, and keeps the best value of <c>train.best_metric</c> and the
/// early-stopping count in the training state (checkpointed, so a resumed run decides the same way).
/// </summary>
internal static class EpochJudge
{
    /// <summary>The epoch's outcome and the state that records its decision (not yet closed: the trainer does that).</summary>
    public static (EpochOutcome Outcome, TrainingState State) Judge(TrainingParts parts, TrainingState state, int epoch, EpochRecord record)
    {
        var train = parts.Config.Train;
        bool last = epoch == train.Epochs - 1;
        if (parts.ValidationLoader is null || ((epoch + 1) % train.ValidateEvery != 0 && !last))
            return (new EpochOutcome(epoch, record, Improved: false, StopEarly: false, EndsRun: last), state);
        // Training's held activation memory does not fit validation's whole images: validation starts from what
        // training gave back (Runtime/HeldMemory), so the two do not stack up; the trainer releases again at the epoch's end.
        Runtime.HeldMemory.Release();
        var result = Validator.Run(parts.Model, parts.ValidationLoader, parts.Loss, parts.ClassNames, parts.Description.IgnoreIndex,
            collective: parts.Collective, decision: parts.Card.Decision);
        var metrics = result.Metrics;
        var validated = record with
        {
            ValidationLoss = result.Loss, MeanIoU = metrics.MeanIoU, MeanDice = metrics.MeanDice, PixelAccuracy = metrics.PixelAccuracy,
            ClassIoU = metrics.PerClass.Select(c => c.IoU).ToList(), ClassDice = metrics.PerClass.Select(c => c.Dice).ToList(),
        };
        double value = train.BestMetric switch
        {
            BestMetric.MeanDice => metrics.MeanDice,
            BestMetric.MeanIoU => metrics.MeanIoU,
            BestMetric.PixelAccuracy => metrics.PixelAccuracy,
            // Higher is better for every tracked value, so the loss is negated.
            BestMetric.ValidationLoss => -(result.Loss ?? double.PositiveInfinity),
        };
        bool improved = value > state.BestValue;
        var judged = state with
        {
            BestValue = improved ? value : state.BestValue,
            BestEpoch = improved ? epoch : state.BestEpoch,
            ValidationsWithoutImprovement = improved ? 0 : state.ValidationsWithoutImprovement + 1,
        };
        bool stop = train.EarlyStopPatience > 0 && judged.ValidationsWithoutImprovement >= train.EarlyStopPatience;
        return (new EpochOutcome(epoch, validated, improved, stop, EndsRun: last || stop), judged);
    }
}
