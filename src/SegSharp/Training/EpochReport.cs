namespace SegSharp.Training;

/// <summary>
/// One finished epoch as hooks see it: its metrics line, which validation fills in during
/// <see cref="ITrainingHook.EpochTrained"/>, and what validation decided.
/// </summary>
/// <param name="lastScheduled">The schedule's last epoch (train.epochs).</param>
public sealed class EpochReport(int epoch, EpochRecord record, bool lastScheduled = false)
{
    /// <summary>0-based.</summary>
    public int Epoch { get; } = epoch;
    public EpochRecord Record { get; set; } = record;

    /// <summary>This epoch set a new best value of train.best_metric (best.ckpt is rewritten).</summary>
    public bool Improved { get; set; }

    /// <summary>Early stopping ends the run after this epoch.</summary>
    public bool StopEarly { get; set; }

    /// <summary>The run ends after this epoch: the schedule's last, or stopped early (known once validation has run).</summary>
    public bool EndsRun => lastScheduled || StopEarly;
}
