namespace SegSharp.Training;

/// <summary>Calls a list of hooks in order at each point of a run, and disposes those that hold resources.</summary>
internal sealed class TrainingHooks(IEnumerable<ITrainingHook> hooks) : IDisposable
{
    private readonly IReadOnlyList<ITrainingHook> _hooks = hooks.ToList();

    public void RunStarted(TrainingSession s) { foreach (var h in _hooks) h.RunStarted(s); }

    public void EpochStarted(TrainingSession s, int epoch) { foreach (var h in _hooks) h.EpochStarted(s, epoch); }

    public void GradientsReady(TrainingSession s) { foreach (var h in _hooks) h.GradientsReady(s); }

    public void StepCompleted(TrainingSession s, StepReport step) { foreach (var h in _hooks) h.StepCompleted(s, step); }

    public void EpochTrained(TrainingSession s, EpochReport epoch) { foreach (var h in _hooks) h.EpochTrained(s, epoch); }

    public void EpochCompleted(TrainingSession s, EpochReport epoch) { foreach (var h in _hooks) h.EpochCompleted(s, epoch); }

    public void Interrupted(TrainingSession s, bool atEpochEnd) { foreach (var h in _hooks) h.Interrupted(s, atEpochEnd); }

    public void RunFinished(TrainingSession s, TrainingResult result) { foreach (var h in _hooks) h.RunFinished(s, result); }

    public void Dispose()
    {
        foreach (var hook in _hooks.OfType<IDisposable>()) hook.Dispose();
    }
}
