using System.Globalization;
using SegSharp.Configuration;
using SegSharp.Runtime;
using SegSharp.Training;

namespace SegSharp.Tracking;

/// <summary>
/// The training side of MLflow tracking: turns what the trainer reports into outbox operations (the run with its tags,
/// the flattened effective config as params, each epoch's metrics at its global step, once) and puts the MLflow run's id
/// into every checkpoint once the store has created the run. It never waits for the store.
/// </summary>
internal sealed class MlflowHook(MlflowOutbox outbox, string runName) : ITrainingHook
{
    /// <summary>Longest param and tag values sent (MLflow 2.x and later keep 6000 and 8000 characters).</summary>
    public const int MaxParamLength = 6000, MaxTagLength = 8000;

    /// <summary>The checkpoint entry that names the MLflow run.</summary>
    public const string RunIdEntry = "mlflow.run_id";

    /// <summary>This process trained (as opposed to starting a run that had finished before).</summary>
    public bool Started { get; private set; }

    /// <summary>mlflow.json lost (a kill before its first write, a copied folder) but the checkpoint names the run: continue that run.</summary>
    public void CheckpointRestored(IReadOnlyDictionary<string, string> entries)
    {
        if (outbox.State.RunId is null && entries.TryGetValue(RunIdEntry, out var id) && id.Length > 0) outbox.Update(s => s with { RunId = id });
    }

    public void SavingCheckpoint(IDictionary<string, string> entries)
    {
        if (outbox.State.RunId is { } id) entries[RunIdEntry] = id;
    }

    public void RunStarted(ITrainingView run)
    {
        Started = true;
        var state = outbox.State;
        bool fresh = state.LoggedThroughStep < 0 && run.State.GlobalStep == 0;
        outbox.Add(new MlflowOperation { Kind = MlflowOperationKind.Start, Time = Now(), RunName = runName, Tags = Tags(run.Parts) });
        if (fresh || !state.ParamsLogged)
        {
            var parameters = ConfigDifference.Flatten(run.Config.EffectiveYaml, "the effective config")
                .OrderBy(p => p.Key, StringComparer.Ordinal)
                .Select(p => new MlflowTag(MlflowKeys.Param(p.Key), Cut(p.Value, MaxParamLength))).ToList();
            outbox.Add(new MlflowOperation { Kind = MlflowOperationKind.Batch, Time = Now(), Params = parameters });
            outbox.Update(s => s with { ParamsLogged = true });
        }
        // Epochs the checkpoint holds that never reached the outbox (a kill between the epoch's checkpoint and this hook).
        foreach (var epoch in run.State.History) LogEpoch(epoch, run.Parts.ClassNames);
    }

    public void EpochCompleted(ITrainingView run, EpochOutcome epoch) => LogEpoch(epoch.Record, run.Parts.ClassNames);

    /// <summary>An epoch's metrics at its global step, once: a step at or before the last one logged is skipped.</summary>
    private void LogEpoch(EpochRecord r, IReadOnlyList<string> classNames)
    {
        if (r.Step <= outbox.State.LoggedThroughStep) return;
        long time = Now();
        var metrics = new List<MlflowMetric>
        {
            new("train_loss", r.TrainLoss, time, r.Step), new("lr", r.LR, time, r.Step), new("train_images_per_second", r.ImagesPerSecond, time, r.Step),
        };
        void Add(string key, double? value)
        {
            if (value is double v && double.IsFinite(v)) metrics.Add(new MlflowMetric(key, v, time, r.Step));
        }
        Add("val_loss", r.ValidationLoss);
        Add("val_mean_iou", r.MeanIoU);
        Add("val_mean_dice", r.MeanDice);
        Add("val_pixel_accuracy", r.PixelAccuracy);
        for (int c = 0; c < classNames.Count; c++)
        {
            Add(MlflowKeys.Metric("val_iou", classNames[c]), r.ClassIoU?.ElementAtOrDefault(c));
            Add(MlflowKeys.Metric("val_dice", classNames[c]), r.ClassDice?.ElementAtOrDefault(c));
        }
        outbox.Add(new MlflowOperation { Kind = MlflowOperationKind.Batch, Time = time, Metrics = metrics });
        outbox.Update(s => s with { LoggedThroughStep = r.Step });
    }

    private IReadOnlyList<MlflowTag> Tags(TrainingParts parts)
    {
        string version = RunEnvironment.CurrentSegSharpVersion;
        int plus = version.IndexOf('+', StringComparison.Ordinal);
        return new List<MlflowTag>
        {
            new("mlflow.runName", runName), new("mlflow.source.name", "segsharp train"), new("mlflow.source.type", "LOCAL"),
            new("mlflow.user", Environment.UserName),
            new("segsharp.version", plus >= 0 ? version[..plus] : version), new("segsharp.git_commit", plus >= 0 ? version[(plus + 1)..] : "unknown"),
            new("segsharp.dataset", parts.Description.Name), new("segsharp.dataset_sha256", parts.DatasetSha256),
            new("segsharp.torchsharp", TorchRuntime.TorchSharpVersion), new("segsharp.libtorch", TorchRuntime.LibTorchVersion),
            new("segsharp.world_size", parts.Collective.Size.ToString(CultureInfo.InvariantCulture)), new("segsharp.run_dir", parts.Run.Path),
        }.Select(t => t with { Value = Cut(t.Value, MaxTagLength) }).ToList();
    }

    internal static string Cut(string value, int length) => value.Length > length ? value[..length] : value;

    internal static long Now() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
}
