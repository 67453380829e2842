namespace SegSharp.Training;

/// <summary>
/// Something that acts at fixed points of a training run: checkpointing, run files, TensorBoard, progress,
/// validation, and what attaches later (experiment tracking, gradient all-reduce across processes). The trainer
/// calls every hook at each point in registration order; the built-in order is documented on
/// <see cref="Trainer"/>. Every method does nothing unless overridden.
/// </summary>
public interface ITrainingHook
{
    /// <summary>Before the first step of this process (fresh or resumed; <see cref="TrainingSession.ResumedFrom"/> says which).</summary>
    void RunStarted(TrainingSession session) { }

    /// <summary>Before the first step of <paramref name="epoch"/> (0-based), also when resuming inside it.</summary>
    void EpochStarted(TrainingSession session, int epoch) { }

    /// <summary>
    /// After the backward passes of one optimiser step, before clipping and the optimiser: gradients are in
    /// the parameters' <c>.grad</c> and may be changed here (an all-reduce across processes goes here).
    /// </summary>
    void GradientsReady(TrainingSession session) { }

    /// <summary>After an optimiser step; <see cref="TrainingSession.State"/> already counts it.</summary>
    void StepCompleted(TrainingSession session, StepReport step) { }

    /// <summary>After an epoch's last step, before it is recorded: validation fills in <paramref name="epoch"/> here.</summary>
    void EpochTrained(TrainingSession session, EpochReport epoch) { }

    /// <summary>After the epoch is recorded in <see cref="TrainingSession.State"/> (history, counters, finished flag).</summary>
    void EpochCompleted(TrainingSession session, EpochReport epoch) { }

    /// <summary>A stop was requested (SIGINT/SIGTERM); the run returns after this, resumable.</summary>
    void Interrupted(TrainingSession session, bool atEpochEnd) { }

    /// <summary>The run has finished (all epochs, or stopped early), or had finished before this process started.</summary>
    void RunFinished(TrainingSession session, TrainingResult result) { }
}
