using SegSharp.Configuration;

namespace SegSharp.Tracking;

/// <summary>
/// Logs a training run to MLflow, in three parts that each do one thing: <see cref="Hook"/> turns training events into
/// operations, the outbox (<c>RUN/mlflow-outbox.jsonl</c>, <c>RUN/mlflow.json</c>) keeps them until the store has them, and a
/// background sender delivers them. Training never waits for MLflow: what is not sent by the end stays in the outbox and
/// goes out when the run is started again. This class opens the three and ends the run (artifacts, final status).
/// </summary>
public sealed class MlflowTracker : IDisposable
{
    private readonly IMlflowStore _store;
    private readonly MlflowOutbox _outbox;
    private readonly MlflowSender _sender;
    private readonly MlflowHook _hook;
    private readonly Action<string> _report;
    private readonly TimeSpan _flush;
    private bool _finished;

    private MlflowTracker(IMlflowStore store, string runDirectory, string experiment, string runName, TimeSpan flush, Action<string> report)
    {
        (_store, _flush, _report) = (store, flush, report);
        _outbox = new MlflowOutbox(runDirectory, report);
        _hook = new MlflowHook(_outbox, runName);
        _sender = new MlflowSender(store, _outbox, experiment, runName, report);
    }

    /// <summary>The training hook that feeds this tracker (the tracker outlives the trainer: the report and the status come after).</summary>
    public Training.ITrainingHook Hook => _hook;

    /// <summary>The MLflow run's id once the store has created it (null before, or while the store is unreachable).</summary>
    public string? RunId => _outbox.State.RunId;

    public string StoreUri => _store.Uri;

    /// <summary>Operations not yet acknowledged by the store.</summary>
    public int Pending => _outbox.Count;

    /// <summary>
    /// A tracker for <paramref name="config"/> when <c>tracking.mlflow.uri</c> is set, null otherwise. Environment variables
    /// are the caller's to resolve (<see cref="TrackingConfig.WithEnvironment"/>). <paramref name="report"/> receives the few
    /// lines a person should see (one warning per kind of failure).
    /// </summary>
    /// <param name="store">Use this store instead of the one the URI names (tests).</param>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA2000", Justification = "The tracker owns the store and disposes it; " +
        "a failed construction disposes it here.")]
    public static MlflowTracker? Open(SegSharpConfig config, Action<string> report, IMlflowStore? store = null)
    {
        var tracking = config.Tracking;
        if (tracking.MlflowUri.Length == 0 && store is null) return null;
        string runName = tracking.MlflowRunName.Length > 0 ? tracking.MlflowRunName : Path.GetFileName(config.OutputDirectory.TrimEnd('/'));
        var used = store ?? CreateStore(tracking);
        try
        {
            return new MlflowTracker(used, config.OutputDirectory, tracking.ExperimentOrDefault, runName, TimeSpan.FromSeconds(tracking.MlflowFlushSeconds),
                report);
        }
        catch
        {
            used.Dispose();
            throw;
        }
    }

    /// <summary>The store <c>tracking.mlflow.uri</c> names, with the config's credentials.</summary>
    public static IMlflowStore CreateStore(TrackingConfig tracking)
    {
        string uri = tracking.MlflowUri;
        if (uri.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || uri.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
            return MlflowRestStore.IsValid(uri, out string problem)
                ? new MlflowRestStore(uri, token: tracking.MlflowToken, user: tracking.MlflowUsername, password: tracking.MlflowPassword)
                : new UnusableStore(uri, problem);
        if (uri.StartsWith("file:", StringComparison.Ordinal)) return new MlflowFileStore(uri);
        throw new SegSharpException($"tracking.mlflow.uri (or MLFLOW_TRACKING_URI) '{uri}' is not a tracking store SegSharp can write: use " +
            "http(s)://host:port for an MLflow server or file:./mlruns for MLflow's file-store layout.");
    }

    /// <summary>
    /// Ends the run: the files to keep as artifacts (paths relative to <paramref name="runDirectory"/>), the status
    /// (FINISHED, FAILED, KILLED), then waits up to <c>tracking.mlflow.flush_seconds</c> for the store to have everything
    /// (at most 5 seconds after an interrupt or a failure: the person is waiting for the prompt).
    /// </summary>
    /// <remarks>
    /// A run that was finished before this process started (<c>train</c> again on a finished run folder) sends only what its
    /// outbox still holds: its artifacts and status went out, or were queued, when it finished. The wait ends as soon as the
    /// store fails an attempt made after this call (it is down or refusing: what is left stays in the outbox), so a dead
    /// store costs the end of a run one refused connection, not the flush time. This wait is the workflow's, after training.
    /// </remarks>
    public void Finish(string status, string runDirectory, IEnumerable<string> artifacts)
    {
        if (_finished) return;
        _finished = true;
        var wait = status == "FINISHED" ? _flush : TimeSpan.FromSeconds(Math.Min(5, _flush.TotalSeconds));
        if (_hook.Started || !_outbox.State.EndQueued) QueueEnd(status, runDirectory, artifacts);
        _sender.ForgetFailures();
        _sender.RetryNow();
        _outbox.WaitUntil(() => _outbox.Count == 0 || _sender.Failing, wait);
        _sender.Stop();
        if (Pending > 0)
            _report($"warning: MLflow at {_store.Uri} did not take {Pending} request(s) in time; they are kept in {_outbox.OutboxPath} and sent when " +
                "this run is started again (segsharp train --resume).");
    }

    private void QueueEnd(string status, string runDirectory, IEnumerable<string> artifacts)
    {
        foreach (var relative in artifacts)
        {
            string path = Path.Combine(runDirectory, relative);
            if (File.Exists(path))
                _outbox.Add(new MlflowOperation
                {
                    Kind = MlflowOperationKind.Artifact, Time = MlflowHook.Now(), LocalPath = Path.GetFullPath(path),
                    ArtifactPath = relative.Replace('\\', '/'),
                });
        }
        _outbox.Add(new MlflowOperation { Kind = MlflowOperationKind.End, Time = MlflowHook.Now(), Status = status });
        _outbox.Update(s => s with { EndQueued = status == "FINISHED" });
    }

    public void Dispose()
    {
        _sender.Stop();
        _store.Dispose();
    }

    /// <summary>A tracking URI that cannot be used (a typo such as <c>http://</c>): every request fails as unavailable, so the
    /// run warns once, trains, and keeps what it would have sent in the outbox for a start with a corrected URI.</summary>
    private sealed class UnusableStore(string uri, string problem) : IMlflowStore
    {
        public string Uri => uri;

        public (string RunId, string ArtifactUri) StartRun(string experiment, string? runId, string runName, IReadOnlyList<MlflowTag> tags, long startTime) =>
            throw new MlflowUnavailableException(problem);

        public void LogBatch(string runId, IReadOnlyList<MlflowMetric> metrics, IReadOnlyList<MlflowTag> parameters, IReadOnlyList<MlflowTag> tags) =>
            throw new MlflowUnavailableException(problem);

        public void UploadArtifact(string runId, string artifactUri, string localPath, string artifactPath) => throw new MlflowUnavailableException(problem);

        public void EndRun(string runId, string status, long endTime) => throw new MlflowUnavailableException(problem);

        public void Dispose() { }
    }
}
