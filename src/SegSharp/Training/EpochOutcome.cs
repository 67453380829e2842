namespace SegSharp.Training;

/// <summary>
/// One finished epoch as the trainer decided it and hooks see it: its metrics line (validation figures included when it
/// validated), whether train.best_metric improved (best.ckpt was rewritten) and whether the run ends here.
/// </summary>
/// <param name="Epoch">0-based.</param>
/// <param name="StopEarly">Early stopping ends the run after this epoch.</param>
/// <param name="EndsRun">The run ends after this epoch: the schedule's last, or stopped early.</param>
public sealed record EpochOutcome(int Epoch, EpochRecord Record, bool Improved, bool StopEarly, bool EndsRun);
