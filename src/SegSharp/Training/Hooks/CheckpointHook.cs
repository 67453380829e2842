namespace SegSharp.Training.Hooks;

/// <summary>
/// Writes last.ckpt every <c>train.checkpoint_every</c> steps inside an epoch, at every epoch end and on an
/// interrupt, and best.ckpt when validation improved. Never writes the same step twice in a row, so previous.ckpt
/// always holds an older complete checkpoint.
/// </summary>
internal sealed class CheckpointHook : ITrainingHook
{
    private long _savedStep = -1;

    public void StepCompleted(TrainingSession session, StepReport step)
    {
        int every = session.Config.Train.CheckpointEvery;
        if (every > 0 && session.State.GlobalStep % every == 0 && !step.LastOfEpoch) Save(session);
    }

    public void EpochCompleted(TrainingSession session, EpochReport epoch)
    {
        Save(session);
        if (epoch.Improved) session.SaveBest();
    }

    public void Interrupted(TrainingSession session, bool atEpochEnd)
    {
        if (!atEpochEnd) Save(session);
    }

    private void Save(TrainingSession session)
    {
        if (session.State.GlobalStep == _savedStep && session.State.NextBatch != 0) return;
        session.SaveCheckpoint();
        _savedStep = session.State.GlobalStep;
    }
}
