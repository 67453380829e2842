namespace SegSharp.Training;

/// <summary>
/// Something that observes a training run at fixed points: run files, TensorBoard, a console's progress, experiment
/// tracking. Hooks see the run through a read-only <see cref="ITrainingView"/> and decide nothing: validation, the best
/// value, early stopping and checkpoints are the trainer's. The trainer calls every hook at each point in registration
/// order (the built-in ones first, docs/architecture.md). Every method does nothing unless overridden.
/// </summary>
public interface ITrainingHook
{
    /// <summary>Before the first step of this process (fresh or resumed; <see cref="ITrainingView.ResumedFrom"/> says which).</summary>
    void RunStarted(ITrainingView run) { }

    /// <summary>Before the first step of <paramref name="epoch"/> (0-based), also when resuming inside it.</summary>
    void EpochStarted(ITrainingView run, int epoch) { }

    /// <summary>After an optimiser step (and the checkpoint it may have written); the state already counts it.</summary>
    void StepCompleted(ITrainingView run, StepReport step) { }

    /// <summary>After the epoch is validated (when due), recorded in the state and checkpointed.</summary>
    void EpochCompleted(ITrainingView run, EpochOutcome epoch) { }

    /// <summary>A stop was requested (SIGINT/SIGTERM) and the checkpoint is written; the run returns after this, resumable.</summary>
    void Interrupted(ITrainingView run, bool atEpochEnd) { }

    /// <summary>The run has finished (all epochs, or stopped early), or had finished before this process started.</summary>
    void RunFinished(ITrainingView run, TrainingResult result) { }

    /// <summary>A line for the person running training (a warning, "Resuming from ..."). May come from a background thread.</summary>
    void Message(string text) { }

    /// <summary>
    /// A checkpoint is being written: add the entries this hook needs back after a restart (keys prefixed with the hook's
    /// name, e.g. <c>mlflow.run_id</c>). Called on the training thread; the values are stored in the checkpoint's state.
    /// </summary>
    void SavingCheckpoint(IDictionary<string, string> entries) { }

    /// <summary>The run resumes from a checkpoint: the entries every hook saved into it, before <see cref="RunStarted"/>.</summary>
    void CheckpointRestored(IReadOnlyDictionary<string, string> entries) { }
}
