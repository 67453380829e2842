using SegSharp.Configuration;
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
    public void RunStarted(ITrainingView view)
    {
        var parts = view.Parts;
        var run = parts.Run;
        bool fresh = view.ResumedFrom is null;
        var config = parts.Config;
        if (fresh || !File.Exists(run.ConfigPath))
            run.WriteText(RunDirectory.ConfigFile, $"{SegSharpConfig.StoredHeader(config.Source)}\n{config.EffectiveYaml}");
        if (fresh || !File.Exists(run.File(RunDirectory.EnvironmentFile))) run.Write(EnvironmentInfo.Capture(parts.Threads, parts.Collective));
        if (fresh || !File.Exists(run.File(RunDirectory.DatasetFile))) run.Write(DatasetManifest.Of(parts));
    }

    public void EpochCompleted(ITrainingView run, EpochOutcome epoch) => run.Run.WriteMetrics(run.State.History, run.Parts.ClassNames);

    public void RunFinished(ITrainingView run, TrainingResult result) => run.Run.Write(RunSummary.Of(result, run.Config.Train.BestMetric));
}
