namespace SegSharp.Training;

/// <summary>
/// What a hook sees of a running training: its parts and where it stands, read-only. Only the trainer advances the state;
/// a hook that must carry something across a restart stores it through <see cref="ITrainingHook.SavingCheckpoint"/>.
/// </summary>
public interface ITrainingView
{
    TrainingParts Parts { get; }

    /// <summary>Where the run stands: after the last completed step or epoch.</summary>
    TrainingState State { get; }

    /// <summary>The checkpoint this process resumed from; null for a fresh run.</summary>
    string? ResumedFrom { get; }

    Configuration.SegSharpConfig Config => Parts.Config;

    RunDirectory Run => Parts.Run;
}
