using System.Globalization;
using System.Text.Json;
using SegSharp.Configuration;
using SegSharp.Foundation;
using SegSharp.Runtime;

namespace SegSharp.Training.Tracking;

/// <summary>
/// Logs a training run to MLflow: the run (created, or continued on resume), tags, the flattened effective config as
/// params, each epoch's metrics at its global step, then the config, summary, metrics and report as artifacts and the
/// final status. Training never waits for MLflow: every operation is appended to <c>RUN/mlflow-outbox.jsonl</c> and sent
/// by a background thread, which retries with back-off while the store is down or failing and drops a request only
/// when the store refuses it (4xx). What is not sent by the end stays in the outbox and goes out when the run is
/// started again. <c>RUN/mlflow.json</c> holds the run's id and the last step logged, so a resume never logs a step twice.
/// </summary>
public sealed class MlflowTracker : IDisposable
{
    /// <summary>MLflow's LogBatch limits per request.</summary>
    public const int MaxMetrics = 1000, MaxParams = 100, MaxTags = 100;

    /// <summary>Longest param and tag values sent (MLflow 2.x and later keep 6000 and 8000 characters).</summary>
    public const int MaxParamLength = 6000, MaxTagLength = 8000;

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower, allowIntegerValues: false) },
    };

    private readonly IMlflowStore _store;
    private readonly string _statePath, _outboxPath, _experiment, _runName;
    private readonly Action<string> _report;
    private readonly TimeSpan _flush;
    private readonly object _gate = new();
    private readonly List<MlflowOperation> _queue = new();
    private readonly SemaphoreSlim _wake = new(0);
    private readonly ManualResetEventSlim _retryNow = new(false);
    private readonly CancellationTokenSource _stop = new();
    private readonly Thread _sender;
    private readonly HashSet<string> _warned = new(StringComparer.Ordinal);
    private TrackingState _state;
    private bool _finished, _started;

    /// <summary>The store's last attempt failed (it is down, refusing connections or not MLflow); cleared by a success.</summary>
    private bool _failing;

    /// <summary>The sender stopped on an error nobody foresaw; nothing more is sent by this process.</summary>
    private bool _dead;

    private MlflowTracker(IMlflowStore store, string runDirectory, string experiment, string runName, TimeSpan flush, Action<string> report)
    {
        _store = store;
        _experiment = experiment;
        _runName = runName;
        _flush = flush;
        _report = report;
        Directory.CreateDirectory(runDirectory);
        _statePath = Path.Combine(runDirectory, RunDirectory.MlflowStateFile);
        _outboxPath = Path.Combine(runDirectory, RunDirectory.MlflowOutboxFile);
        _state = File.Exists(_statePath) ? JsonSerializer.Deserialize<TrackingState>(File.ReadAllText(_statePath), Json)! : new TrackingState();
        if (File.Exists(_outboxPath)) _queue.AddRange(ReadOutbox());
        _sender = new Thread(SendSafely) { IsBackground = true, Name = "SegSharp MLflow sender" };
        _sender.Start();
    }

    /// <summary>
    /// The training hook that feeds this tracker. The tracker outlives the trainer (the report and the final status come
    /// after training), so the trainer gets this forwarder, not the tracker to dispose.
    /// </summary>
    public ITrainingHook Hook => new Forwarder(this);

    /// <summary>The MLflow run's id once the store has created it (null before, or while the store is unreachable).</summary>
    public string? RunId => _state.RunId;

    public string StoreUri => _store.Uri;

    /// <summary>Operations not yet acknowledged by the store.</summary>
    public int Pending
    {
        get
        {
            lock (_gate) return _queue.Count;
        }
    }

    /// <summary>
    /// A tracker for <paramref name="config"/> when tracking is on (<c>tracking.mlflow.uri</c>, else MLFLOW_TRACKING_URI);
    /// null otherwise. <paramref name="report"/> receives the few lines a person should see (one warning per kind of failure).
    /// </summary>
    public static MlflowTracker? Open(SegSharpConfig config, Action<string> report, IMlflowStore? store = null)
    {
        var tracking = config.Tracking;
        string uri = tracking.MlflowUri.Length > 0 ? tracking.MlflowUri : Environment.GetEnvironmentVariable("MLFLOW_TRACKING_URI") ?? "";
        if (uri.Length == 0 && store is null) return null;
        store ??= uri.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || uri.StartsWith("https://", StringComparison.OrdinalIgnoreCase)
            ? MlflowRestStore.IsValid(uri, out string problem) ? new MlflowRestStore(uri) : new UnusableStore(uri, problem)
            : uri.StartsWith("file:", StringComparison.Ordinal)
                ? new MlflowFileStore(uri)
                : throw new SegSharpException($"tracking.mlflow.uri (or MLFLOW_TRACKING_URI) '{uri}' is not a tracking store SegSharp can write: use " +
                    "http(s)://host:port for an MLflow server or file:./mlruns for MLflow's file-store layout.");
        string experiment = tracking.MlflowExperiment.Length > 0
            ? tracking.MlflowExperiment
            : Environment.GetEnvironmentVariable("MLFLOW_EXPERIMENT_NAME") is { Length: > 0 } name ? name : "segsharp";
        string runName = tracking.MlflowRunName.Length > 0 ? tracking.MlflowRunName : Path.GetFileName(config.OutputDirectory.TrimEnd('/'));
        return new MlflowTracker(store, config.OutputDirectory, experiment, runName, TimeSpan.FromSeconds(tracking.MlflowFlushSeconds), report);
    }

    public void RunStarted(TrainingSession session)
    {
        _started = true;
        if (_state.RunId is null && session.State.TrackingRunId.Length > 0) SaveState(_state with { RunId = session.State.TrackingRunId });
        bool fresh = _state.LoggedThroughStep < 0 && session.State.GlobalStep == 0;
        Enqueue(new MlflowOperation { Kind = MlflowOperationKind.Start, Time = Now(), RunName = _runName, Tags = Tags(session) });
        if (fresh || !_state.ParamsLogged)
        {
            var parameters = ConfigDifference.Flatten(session.Config.EffectiveYaml, "the effective config")
                .OrderBy(p => p.Key, StringComparer.Ordinal)
                .Select(p => new MlflowTag(MlflowKeys.Param(p.Key), Cut(p.Value, MaxParamLength))).ToList();
            Enqueue(new MlflowOperation { Kind = MlflowOperationKind.Batch, Time = Now(), Params = parameters });
            SaveState(_state with { ParamsLogged = true });
        }
        // Epochs the checkpoint holds that never reached the outbox (a kill between the epoch's checkpoint and this hook).
        foreach (var epoch in session.State.History) LogEpoch(epoch, session.ClassNames);
        Remember(session);
    }

    public void EpochCompleted(TrainingSession session, EpochReport epoch)
    {
        Remember(session);
        LogEpoch(epoch.Record, session.ClassNames);
    }

    /// <summary>An epoch's metrics at its global step, once: a step at or before the last one logged is skipped.</summary>
    private void LogEpoch(EpochRecord r, IReadOnlyList<string> classNames)
    {
        if (r.Step <= _state.LoggedThroughStep) return;
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
        Enqueue(new MlflowOperation { Kind = MlflowOperationKind.Batch, Time = time, Metrics = metrics });
        SaveState(_state with { LoggedThroughStep = r.Step });
    }

    /// <summary>
    /// Before the final epoch (the schedule's last, or an early stop: validation, a built-in hook, has decided by now) is
    /// recorded and checkpointed: the last checkpoint should name the MLflow run, so a model file can be traced to it. The
    /// store creates the run in the background; give it a moment, bounded: at most 5 seconds, and none at all once the
    /// store has failed (a store that is down costs the run nothing here).
    /// </summary>
    public void EpochTrained(TrainingSession session, EpochReport epoch)
    {
        if (!epoch.EndsRun) return;
        RetryNow();
        WaitUntil(() => _state.RunId is not null || _failing, ShortWait);
        Remember(session);
    }

    public void Interrupted(TrainingSession session, bool atEpochEnd) => Remember(session);

    /// <summary>
    /// Ends the run: the files to keep as artifacts (paths relative to <paramref name="runDirectory"/>), the status
    /// (FINISHED, FAILED, KILLED), then waits up to <c>tracking.mlflow.flush_seconds</c> for the store to have everything
    /// (at most 5 seconds after an interrupt or a failure: the person is waiting for the prompt).
    /// </summary>
    /// <remarks>
    /// A run that was finished before this process started (<c>train</c> again on a finished run folder) sends only what its
    /// outbox still holds: its artifacts and status went out, or were queued, when it finished. The wait ends as soon as the
    /// store fails an attempt made after this call (it is down or refusing: what is left stays in the outbox), so a dead
    /// store costs the end of a run one refused connection, not the flush time.
    /// </remarks>
    public void Finish(string status, string runDirectory, IEnumerable<string> artifacts)
    {
        var wait = status == "FINISHED" ? _flush : ShortWait;
        if (_finished) return;
        _finished = true;
        if (_started || !_state.EndQueued) QueueEnd(status, runDirectory, artifacts);
        // Forget earlier failures first, then ask for an attempt now: a failure seen from here on is that attempt's.
        lock (_gate) _failing = _dead;
        RetryNow();
        WaitUntil(() => _queue.Count == 0 || _failing, wait);
        StopSender();
        if (Pending > 0)
            _report($"warning: MLflow at {_store.Uri} did not take {Pending} request(s) in time; they are kept in {_outboxPath} and sent when this run " +
                "is started again (segsharp train --resume).");
    }

    private void QueueEnd(string status, string runDirectory, IEnumerable<string> artifacts)
    {
        foreach (var relative in artifacts)
        {
            string path = Path.Combine(runDirectory, relative);
            if (File.Exists(path))
                Enqueue(new MlflowOperation
                {
                    Kind = MlflowOperationKind.Artifact, Time = Now(), LocalPath = Path.GetFullPath(path), ArtifactPath = relative.Replace('\\', '/'),
                });
        }
        Enqueue(new MlflowOperation { Kind = MlflowOperationKind.End, Time = Now(), Status = status });
        SaveState(_state with { EndQueued = status == "FINISHED" });
    }

    public void Dispose()
    {
        StopSender();
        _store.Dispose();
        _wake.Dispose();
        _retryNow.Dispose();
        _stop.Dispose();
    }

    /// <summary>How long a person or a run's end waits for the store at most: 5 seconds, or flush_seconds if shorter.</summary>
    private TimeSpan ShortWait => TimeSpan.FromSeconds(Math.Min(5, _flush.TotalSeconds));

    /// <summary>
    /// Blocks until <paramref name="done"/> (read under the lock) holds or <paramref name="wait"/> has passed. The sender
    /// signals every change it makes, so this sleeps until something happened, never polls.
    /// </summary>
    private void WaitUntil(Func<bool> done, TimeSpan wait)
    {
        var deadline = DateTime.UtcNow + wait;
        lock (_gate)
        {
            while (!done())
            {
                var left = deadline - DateTime.UtcNow;
                if (left <= TimeSpan.Zero || !Monitor.Wait(_gate, left)) return;
            }
        }
    }

    /// <summary>Cuts a back-off short: the run is ending and wants the store tried now.</summary>
    private void RetryNow()
    {
        _retryNow.Set();
        _wake.Release();
    }

    /// <summary>Records an attempt's outcome and wakes whoever waits for one.</summary>
    private void Attempted(bool failed)
    {
        lock (_gate)
        {
            _failing = failed;
            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>The run's id goes into the training state, so every later checkpoint names the MLflow run.</summary>
    private void Remember(TrainingSession session)
    {
        if (_state.RunId is { } id && session.State.TrackingRunId != id) session.State = session.State with { TrackingRunId = id };
    }

    private IReadOnlyList<MlflowTag> Tags(TrainingSession session)
    {
        string version = RunEnvironment.CurrentSegSharpVersion;
        int plus = version.IndexOf('+', StringComparison.Ordinal);
        return new List<MlflowTag>
        {
            new("mlflow.runName", _runName), new("mlflow.source.name", "segsharp train"), new("mlflow.source.type", "LOCAL"),
            new("mlflow.user", Environment.UserName),
            new("segsharp.version", plus >= 0 ? version[..plus] : version), new("segsharp.git_commit", plus >= 0 ? version[(plus + 1)..] : "unknown"),
            new("segsharp.dataset", session.Description.Name), new("segsharp.dataset_sha256", session.DatasetSha256),
            new("segsharp.torchsharp", TorchRuntime.TorchSharpVersion), new("segsharp.libtorch", TorchRuntime.LibTorchVersion),
            new("segsharp.world_size", session.Collective.Size.ToString(CultureInfo.InvariantCulture)), new("segsharp.run_dir", session.Run.Path),
        }.Select(t => t with { Value = Cut(t.Value, MaxTagLength) }).ToList();
    }

    private static string Cut(string value, int length) => value.Length > length ? value[..length] : value;

    private static long Now() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    private void Enqueue(MlflowOperation operation)
    {
        lock (_gate)
        {
            File.AppendAllText(_outboxPath, JsonSerializer.Serialize(operation, Json) + "\n");
            _queue.Add(operation);
        }
        _wake.Release();
    }

    private void SaveState(TrackingState state)
    {
        lock (_gate)
        {
            _state = state;
            AtomicFile.WriteAllText(_statePath, JsonSerializer.Serialize(state, Json));
            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>
    /// The sender thread's body. Nothing a store does may end the process: an exception this code did not foresee is
    /// reported once and the sender stops, leaving the outbox for the next start.
    /// </summary>
    private void SendSafely()
    {
        try
        {
            Send();
        }
        catch (Exception e)
        {
            Warn("crash", $"warning: MLflow tracking stopped on an unexpected error ({e.GetType().Name}: {e.Message}); training continues, and what " +
                $"is not sent stays in {_outboxPath}.");
            lock (_gate)
            {
                _failing = _dead = true;
                Monitor.PulseAll(_gate);
            }
        }
    }

    /// <summary>The sender: the oldest operation first, retried with back-off (0.5 s doubling to 30 s) while the store is unavailable.</summary>
    private void Send()
    {
        var backoff = TimeSpan.FromSeconds(0.5);
        while (!_stop.IsCancellationRequested)
        {
            MlflowOperation? next;
            lock (_gate) next = _queue.FirstOrDefault();
            if (next is null)
            {
                try
                {
                    _wake.Wait(_stop.Token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                continue;
            }
            try
            {
                Execute(next);
                backoff = TimeSpan.FromSeconds(0.5);
            }
            catch (MlflowUnavailableException e)
            {
                Warn("unavailable", $"warning: MLflow at {_store.Uri} is not answering ({e.Message}); training continues, SegSharp retries in the " +
                    $"background and keeps what is not sent in {_outboxPath}.");
                Attempted(failed: true);
                _retryNow.Reset();
                if (WaitHandle.WaitAny(new[] { _stop.Token.WaitHandle, _retryNow.WaitHandle }, backoff) == 0) return;
                backoff = TimeSpan.FromSeconds(Math.Min(30, backoff.TotalSeconds * 2));
                continue;
            }
            catch (Exception e) when (e is MlflowRejectedException or IOException or UnauthorizedAccessException)
            {
                string kind = next.Kind.ToString().ToLowerInvariant();
                Warn(kind + e.Message, $"warning: MLflow at {_store.Uri} refused a '{kind}' request ({e.Message}); it is dropped, training continues.");
            }
            lock (_gate)
            {
                _queue.RemoveAt(0);
                AtomicFile.WriteAllText(_outboxPath, string.Concat(_queue.Select(o => JsonSerializer.Serialize(o, Json) + "\n")));
            }
            Attempted(failed: false);
        }
    }

    /// <summary>The operations an earlier process left; a line that is not one (a hand edit, a newer SegSharp) is dropped with a warning.</summary>
    private List<MlflowOperation> ReadOutbox()
    {
        var operations = new List<MlflowOperation>();
        int dropped = 0;
        foreach (var line in File.ReadAllLines(_outboxPath).Where(l => l.Length > 0))
        {
            try
            {
                operations.Add(JsonSerializer.Deserialize<MlflowOperation>(line, Json) ?? throw new JsonException("null"));
            }
            catch (JsonException)
            {
                dropped++;
            }
        }
        if (dropped > 0) _report($"warning: {dropped} line(s) of {_outboxPath} are not MLflow operations SegSharp knows; they are dropped.");
        return operations;
    }

    private void Execute(MlflowOperation operation)
    {
        if (operation.Kind == MlflowOperationKind.Start)
        {
            bool reopen = _state.RunId is not null;
            var (runId, artifactUri) = _store.StartRun(_experiment, _state.RunId, operation.RunName ?? _runName, operation.Tags, operation.Time);
            SaveState(_state with { RunId = runId, ArtifactUri = artifactUri, Uri = _store.Uri });
            // A new run got its tags with runs/create; a continued one gets this process's (a newer SegSharp, say).
            if (reopen)
                foreach (var chunk in operation.Tags.Chunk(MaxTags)) _store.LogBatch(runId, Array.Empty<MlflowMetric>(), Array.Empty<MlflowTag>(), chunk);
            return;
        }
        string run = _state.RunId ?? throw new MlflowRejectedException("the run was never created");
        Action send = operation.Kind switch
        {
            MlflowOperationKind.Batch => () =>
            {
                foreach (var request in Requests(operation)) LogSplitting(_store, run, request, Refused);
            },
            MlflowOperationKind.Artifact => () =>
            {
                if (File.Exists(operation.LocalPath)) _store.UploadArtifact(run, _state.ArtifactUri ?? "", operation.LocalPath!, operation.ArtifactPath!);
            },
            MlflowOperationKind.End => () => _store.EndRun(run, operation.Status ?? "FINISHED", operation.Time),
            MlflowOperationKind.Start => throw new InvalidOperationException("start is sent above"),
        };
        send();
    }

    /// <summary>
    /// One batch operation as log-batch requests within MLflow's limits: params in hundreds, tags in hundreds, metrics in
    /// thousands, each request of one kind (so none exceeds 1000 items in total).
    /// </summary>
    internal static IEnumerable<(MlflowMetric[] Metrics, MlflowTag[] Params, MlflowTag[] Tags)> Requests(MlflowOperation operation)
    {
        foreach (var chunk in operation.Params.Chunk(MaxParams)) yield return (Array.Empty<MlflowMetric>(), chunk, Array.Empty<MlflowTag>());
        foreach (var chunk in operation.Tags.Chunk(MaxTags)) yield return (Array.Empty<MlflowMetric>(), Array.Empty<MlflowTag>(), chunk);
        foreach (var chunk in operation.Metrics.Chunk(MaxMetrics)) yield return (chunk, Array.Empty<MlflowTag>(), Array.Empty<MlflowTag>());
    }

    /// <summary>
    /// Sends one log-batch request; when the store refuses it, sends its halves, down to single items, so one item the
    /// store will not take (a key, a value, a changed param) loses only itself; <paramref name="refused"/> hears of each
    /// such item (kind, key, the store's reason).
    /// </summary>
    internal static void LogSplitting(IMlflowStore store, string run, (MlflowMetric[] Metrics, MlflowTag[] Params, MlflowTag[] Tags) request,
        Action<string, string, string> refused)
    {
        var (metrics, parameters, tags) = request;
        try
        {
            store.LogBatch(run, metrics, parameters, tags);
        }
        catch (MlflowRejectedException e)
        {
            if (metrics.Length + parameters.Length + tags.Length == 1)
            {
                var (kind, key) = metrics.Length == 1 ? ("metric", metrics[0].Key)
                    : parameters.Length == 1 ? ("param", parameters[0].Key) : ("tag", tags[0].Key);
                refused(kind, key, e.Message);
                return;
            }
            LogSplitting(store, run, (metrics[..(metrics.Length / 2)], parameters[..(parameters.Length / 2)], tags[..(tags.Length / 2)]), refused);
            LogSplitting(store, run, (metrics[(metrics.Length / 2)..], parameters[(parameters.Length / 2)..], tags[(tags.Length / 2)..]), refused);
        }
    }

    private void Refused(string kind, string key, string reason) =>
        Warn("refused " + kind, $"warning: MLflow at {_store.Uri} refused {kind} '{key}' ({reason}); it is dropped, the rest is sent (later " +
            $"refusals of a {kind} are not reported).");

    private void Warn(string kind, string message)
    {
        lock (_warned)
            if (!_warned.Add(kind)) return;
        _report(message);
    }

    private void StopSender()
    {
        if (_stop.IsCancellationRequested) return;
        _stop.Cancel();
        _sender.Join(TimeSpan.FromSeconds(15));
    }

    private sealed class Forwarder(MlflowTracker tracker) : ITrainingHook
    {
        public void RunStarted(TrainingSession session) => tracker.RunStarted(session);

        public void EpochTrained(TrainingSession session, EpochReport epoch) => tracker.EpochTrained(session, epoch);

        public void EpochCompleted(TrainingSession session, EpochReport epoch) => tracker.EpochCompleted(session, epoch);

        public void Interrupted(TrainingSession session, bool atEpochEnd) => tracker.Interrupted(session, atEpochEnd);
    }

    /// <summary>RUN/mlflow.json.</summary>
    private sealed record TrackingState
    {
        public string? Uri { get; init; }

        public string? RunId { get; init; }

        public string? ArtifactUri { get; init; }

        public long LoggedThroughStep { get; init; } = -1;

        public bool ParamsLogged { get; init; }

        /// <summary>The final artifacts and FINISHED status are in the outbox (or sent): starting the finished run again adds nothing.</summary>
        public bool EndQueued { get; init; }
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
