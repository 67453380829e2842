namespace SegSharp.Tracking;

/// <summary>
/// The background thread that empties the outbox into the store, oldest operation first. While the store is down or
/// failing it retries with back-off (0.5 s doubling to 30 s, cut short by <see cref="RetryNow"/>); a request the store refuses
/// (4xx) is dropped with one warning per kind. Nothing a store does ends the process: an error nobody foresaw stops the
/// sender with a warning and leaves the outbox for the next start.
/// </summary>
internal sealed class MlflowSender
{
    /// <summary>MLflow's LogBatch limits per request.</summary>
    public const int MaxMetrics = 1000, MaxParams = 100, MaxTags = 100;

    private readonly IMlflowStore _store;
    private readonly MlflowOutbox _outbox;
    private readonly string _experiment, _runName;
    private readonly Action<string> _report;
    private readonly HashSet<string> _warned = new(StringComparer.Ordinal);
    private readonly Thread _thread;
    private bool _stopping, _retryNow;

    public MlflowSender(IMlflowStore store, MlflowOutbox outbox, string experiment, string runName, Action<string> report)
    {
        (_store, _outbox, _experiment, _runName, _report) = (store, outbox, experiment, runName, report);
        _thread = new Thread(SendSafely) { IsBackground = true, Name = "SegSharp MLflow sender" };
        _thread.Start();
    }

    /// <summary>The store's last attempt failed (down, refusing connections, not MLflow); cleared by a success. Read under the outbox's lock.</summary>
    public bool Failing { get; private set; }

    /// <summary>The sender stopped on an error nobody foresaw; nothing more is sent by this process.</summary>
    public bool Dead { get; private set; }

    /// <summary>Forgets earlier failures (not a stop), so that a failure seen from now on belongs to an attempt made after this call.</summary>
    public void ForgetFailures() => _outbox.Publish(() => Failing = Dead);

    /// <summary>Cuts a back-off short: the run is ending and wants the store tried now.</summary>
    public void RetryNow() => _outbox.Publish(() => _retryNow = true);

    /// <summary>Stops after the request in flight (at most the store's timeout).</summary>
    public void Stop()
    {
        _outbox.Publish(() => _stopping = true);
        _thread.Join(TimeSpan.FromSeconds(15));
    }

    private void SendSafely()
    {
        try
        {
            Send();
        }
        catch (Exception e)
        {
            Warn("crash", $"warning: MLflow tracking stopped on an unexpected error ({e.GetType().Name}: {e.Message}); training continues, and what " +
                $"is not sent stays in {_outbox.OutboxPath}.");
            _outbox.Publish(() => Failing = Dead = true);
        }
    }

    private void Send()
    {
        var backoff = TimeSpan.FromSeconds(0.5);
        while (true)
        {
            MlflowOperation? next = null;
            _outbox.WaitUntil(() => _stopping || (next = _outbox.Oldest) is not null, Timeout.InfiniteTimeSpan);
            if (_stopping) return;
            try
            {
                Execute(next!);
                backoff = TimeSpan.FromSeconds(0.5);
            }
            catch (MlflowUnavailableException e)
            {
                Warn("unavailable", $"warning: MLflow at {_store.Uri} is not answering ({e.Message}); training continues, SegSharp retries in the " +
                    $"background and keeps what is not sent in {_outbox.OutboxPath}.");
                _outbox.Publish(() => (Failing, _retryNow) = (true, false));
                _outbox.WaitUntil(() => _stopping || _retryNow, backoff);
                backoff = TimeSpan.FromSeconds(Math.Min(30, backoff.TotalSeconds * 2));
                continue;
            }
            catch (Exception e) when (e is MlflowRejectedException or IOException or UnauthorizedAccessException)
            {
                string kind = next!.Kind.ToString().ToLowerInvariant();
                Warn(kind + e.Message, $"warning: MLflow at {_store.Uri} refused a '{kind}' request ({e.Message}); it is dropped, training continues.");
            }
            _outbox.RemoveOldest();
            _outbox.Publish(() => Failing = false);
        }
    }

    private void Execute(MlflowOperation operation)
    {
        var state = _outbox.State;
        if (operation.Kind == MlflowOperationKind.Start)
        {
            bool reopen = state.RunId is not null;
            var (runId, artifactUri) = _store.StartRun(_experiment, state.RunId, operation.RunName ?? _runName, operation.Tags, operation.Time);
            _outbox.Update(s => s with { RunId = runId, ArtifactUri = artifactUri, Uri = _store.Uri });
            // A new run got its tags with runs/create; a continued one gets this process's (a newer SegSharp, say).
            if (reopen)
                foreach (var chunk in operation.Tags.Chunk(MaxTags)) _store.LogBatch(runId, Array.Empty<MlflowMetric>(), Array.Empty<MlflowTag>(), chunk);
            return;
        }
        string run = state.RunId ?? throw new MlflowRejectedException("the run was never created");
        Action send = operation.Kind switch
        {
            MlflowOperationKind.Batch => () =>
            {
                foreach (var request in Requests(operation)) LogSplitting(_store, run, request, Refused);
            },
            MlflowOperationKind.Artifact => () =>
            {
                if (File.Exists(operation.LocalPath)) _store.UploadArtifact(run, state.ArtifactUri ?? "", operation.LocalPath!, operation.ArtifactPath!);
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
}
