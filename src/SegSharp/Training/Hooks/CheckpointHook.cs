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

    /// <remarks>
    /// best.ckpt first: last.ckpt's state names this epoch as the best, so it may exist only once best.ckpt holds it. A
    /// failure in between (a full disk) then leaves the earlier last.ckpt, the epoch is trained again on restart and both
    /// files agree; in the other order a restart read "best: this epoch" beside the previous best's weights.
    /// </remarks>
    public void EpochCompleted(TrainingSession session, EpochReport epoch)
    {
        if (epoch.Improved)
        {
            session.Run.Checkpoints.WaitForWrites();
            session.SaveBest();
        }
        Save(session);
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
