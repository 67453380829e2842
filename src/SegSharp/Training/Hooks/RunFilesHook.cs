using SegSharp.Data;
using SegSharp.Runtime;

namespace SegSharp.Training.Hooks;

/// <summary>
/// The run directory's text files: config.yaml, environment.json and dataset.json when a run starts fresh,
/// metrics.jsonl and metrics.csv after every epoch (rewritten from the full history, so a resumed run never
/// duplicates a line), and summary.json when the run has finished (re-created if a kill left it missing).
/// </summary>
internal sealed class RunFilesHook : ITrainingHook
{
    /// <summary>A fresh run writes all three; a resumed run re-creates only what is missing (a kill can lose a file).</summary>
    public void RunStarted(TrainingSession session)
    {
        var run = session.Run;
        bool fresh = session.ResumedFrom is null;
        var config = session.Config;
        var description = session.Description;
        var split = session.Split;
        if (fresh || !File.Exists(run.ConfigPath))
            run.WriteText(RunDirectory.ConfigFile, $"# SegSharp effective config (source: {config.Source})\n{config.EffectiveYaml}");
        if (fresh || !File.Exists(run.File(RunDirectory.EnvironmentFile)))
        {
            var environment = RunEnvironment.Capture(session.Threads, session.Collective);
            run.WriteJson(RunDirectory.EnvironmentFile, new { environment, determinism = environment.DeterminismCaveats() });
        }
        if (!fresh && File.Exists(run.File(RunDirectory.DatasetFile))) return;
        run.WriteJson(RunDirectory.DatasetFile, new
        {
            description.Name, source = description.SourcePath, classes = session.ClassNames, description.IgnoreIndex,
            content_sha256 = session.DatasetSha256,
            train = Enumerable.Range(0, split.Train.Count).Select(split.Train.NameOf),
            validation = Enumerable.Range(0, split.Validation.Count).Select(split.Validation.NameOf),
        });
    }

    public void EpochCompleted(TrainingSession session, EpochReport epoch) =>
        session.Run.WriteMetrics(session.State.History, session.ClassNames);

    public void RunFinished(TrainingSession session, TrainingResult result)
    {
        var state = result.State;
        session.Run.WriteJson(RunDirectory.SummaryFile, new
        {
            finished = true, stopped_early = result.StoppedEarly, epochs = state.Epoch, steps = state.GlobalStep, weights_sha256 = result.WeightsHash,
            best_metric = session.Config.Train.BestMetric, best_epoch = state.BestEpoch + 1,
            best_value = double.IsFinite(state.BestValue) ? (double?)Math.Abs(state.BestValue) : null,
            final = state.History.LastOrDefault(), train_seconds = state.History.Sum(h => h.Seconds),
        });
    }
}
