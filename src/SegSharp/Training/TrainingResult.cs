namespace SegSharp.Training;

/// <summary>How a run ended: finished, stopped early, or interrupted (checkpointed, resumable).</summary>
public sealed record TrainingResult(RunDirectory Run, TrainingState State, string WeightsHash, bool Interrupted, bool StoppedEarly);
