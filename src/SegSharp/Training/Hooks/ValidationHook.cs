using SegSharp.Configuration;
using SegSharp.Evaluation;

namespace SegSharp.Training.Hooks;

/// <summary>
/// Validates every <c>train.val_every</c> epochs and on the last one, fills the epoch's validation metrics in,
/// and keeps the best value of <c>train.best_metric</c> and the early-stopping count in the training state.
/// </summary>
internal sealed class ValidationHook : ITrainingHook
{
    public void EpochTrained(TrainingSession session, EpochReport epoch)
    {
        var train = session.Config.Train;
        bool last = epoch.Epoch == train.Epochs - 1;
        if (session.ValidationLoader is null || ((epoch.Epoch + 1) % train.ValidateEvery != 0 && !last)) return;
        var result = Validator.Run(session.Model, session.ValidationLoader, session.Loss, session.ClassNames, session.Description.IgnoreIndex,
            collective: session.Collective);
        var metrics = result.Metrics;
        epoch.Record = epoch.Record with
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
        var state = session.State;
        epoch.Improved = value > state.BestValue;
        session.State = state with
        {
            BestValue = epoch.Improved ? value : state.BestValue,
            BestEpoch = epoch.Improved ? epoch.Epoch : state.BestEpoch,
            ValidationsWithoutImprovement = epoch.Improved ? 0 : state.ValidationsWithoutImprovement + 1,
        };
        epoch.StopEarly = train.EarlyStopPatience > 0 && session.State.ValidationsWithoutImprovement >= train.EarlyStopPatience;
    }
}
