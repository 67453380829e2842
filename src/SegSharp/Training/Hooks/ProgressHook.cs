using SegSharp.Foundation;

namespace SegSharp.Training.Hooks;

/// <summary>Passes progress to the <see cref="ITrainingObserver"/> (the CLI's bars and lines) and says how a run stopped.</summary>
internal sealed class ProgressHook(ITrainingObserver observer) : ITrainingHook
{
    public void RunStarted(TrainingSession session) =>
        observer.RunStarted(session.Config.Train.Epochs, session.StepsPerEpoch, session.State.Epoch,
            session.State.NextBatch / session.Config.Train.Accumulate, session.Run.Path);

    public void EpochStarted(TrainingSession session, int epoch) =>
        observer.EpochStarted(epoch, session.StepsPerEpoch, session.State.NextBatch / session.Config.Train.Accumulate);

    public void StepCompleted(TrainingSession session, StepReport step) =>
        observer.StepCompleted(step.Epoch, step.Step, step.StepsPerEpoch, step.Loss, step.LR, step.ImagesPerSecond);

    public void EpochCompleted(TrainingSession session, EpochReport epoch) => observer.EpochCompleted(epoch.Record, epoch.Improved);

    public void Interrupted(TrainingSession session, bool atEpochEnd)
    {
        var state = session.State;
        observer.Message(atEpochEnd
            ? $"Interrupted after epoch {state.Epoch}: checkpoint saved. Resume with: segsharp train --resume {session.Run.Path}"
            : $"Interrupted: checkpoint saved at epoch {state.Epoch + 1}, step {state.GlobalStep}. Resume with: segsharp train --resume {session.Run.Path}");
    }

    public void RunFinished(TrainingSession session, TrainingResult result)
    {
        var train = session.Config.Train;
        if (result.StoppedEarly)
            observer.Message($"Early stop: {OptionNames<Configuration.BestMetric>.Name(train.BestMetric)} did not improve for {train.EarlyStopPatience} " +
                $"validations (best at epoch {result.State.BestEpoch + 1}).");
    }
}
