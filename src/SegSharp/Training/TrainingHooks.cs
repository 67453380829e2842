namespace SegSharp.Training;

/// <summary>Calls a list of hooks in order at each point of a run, and disposes those that hold resources.</summary>
internal sealed class TrainingHooks(IEnumerable<ITrainingHook> hooks) : IDisposable
{
    private readonly IReadOnlyList<ITrainingHook> _hooks = hooks.ToList();

    public void RunStarted(ITrainingView r) { foreach (var h in _hooks) h.RunStarted(r); }

    public void EpochStarted(ITrainingView r, int epoch) { foreach (var h in _hooks) h.EpochStarted(r, epoch); }

    public void StepCompleted(ITrainingView r, StepReport step) { foreach (var h in _hooks) h.StepCompleted(r, step); }

    public void EpochCompleted(ITrainingView r, EpochOutcome epoch) { foreach (var h in _hooks) h.EpochCompleted(r, epoch); }

    public void Interrupted(ITrainingView r, bool atEpochEnd) { foreach (var h in _hooks) h.Interrupted(r, atEpochEnd); }

    public void RunFinished(ITrainingView r, TrainingResult result) { foreach (var h in _hooks) h.RunFinished(r, result); }

    public void Message(string text) { foreach (var h in _hooks) h.Message(text); }

    /// <summary>Every hook's checkpoint entries, in one sorted map (a later hook's key overwrites an earlier one's).</summary>
    public IReadOnlyDictionary<string, string> CheckpointEntries()
    {
        var entries = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var h in _hooks) h.SavingCheckpoint(entries);
        return entries;
    }

    public void CheckpointRestored(IReadOnlyDictionary<string, string> entries) { foreach (var h in _hooks) h.CheckpointRestored(entries); }

    public void Dispose()
    {
        foreach (var hook in _hooks.OfType<IDisposable>()) hook.Dispose();
    }
}
