using System.Collections.Concurrent;
using System.Diagnostics;
using SegSharp.Tracking;

namespace SegSharp.Tests.Tracking;

/// <summary>
/// The three parts of MLflow tracking, each alone: the outbox (files that survive a restart), the sender (order, back-off,
/// refusals) and the hook (operations from training events, the checkpoint entry). The real server is exercised
/// end to end in <c>MlflowTrackingTests</c>; here a store in memory records what reaches it.
/// </summary>
public sealed class TrackingPartsTests : IDisposable
{
    private readonly string _run = TestPaths.TempFolder("tracking-parts");

    public void Dispose()
    {
        if (Directory.Exists(_run)) Directory.Delete(_run, recursive: true);
    }

    /// <summary>A store that fails while <see cref="Down"/> and records every request that got through, in order.</summary>
    private sealed class MemoryStore : IMlflowStore
    {
        public volatile bool Down;
        public ConcurrentQueue<string> Received { get; } = new();
        public int Attempts;
        public HashSet<string> RefusedKeys { get; } = new();

        public string Uri => "memory:";

        public (string RunId, string ArtifactUri) StartRun(string experiment, string? runId, string runName, IReadOnlyList<MlflowTag> tags, long startTime)
        {
            Attempt();
            Received.Enqueue($"start {experiment}/{runName}");
            return (runId ?? "run-1", "memory:/artifacts");
        }

        public void LogBatch(string runId, IReadOnlyList<MlflowMetric> metrics, IReadOnlyList<MlflowTag> parameters, IReadOnlyList<MlflowTag> tags)
        {
            Attempt();
            if (metrics.Any(m => RefusedKeys.Contains(m.Key))) throw new MlflowRejectedException("INVALID_PARAMETER_VALUE");
            foreach (var m in metrics) Received.Enqueue($"metric {m.Key}@{m.Step}={m.Value}");
            foreach (var p in parameters) Received.Enqueue($"param {p.Key}={p.Value}");
        }

        public void UploadArtifact(string runId, string artifactUri, string localPath, string artifactPath)
        {
            Attempt();
            Received.Enqueue($"artifact {artifactPath}");
        }

        public void EndRun(string runId, string status, long endTime)
        {
            Attempt();
            Received.Enqueue($"end {status}");
        }

        public void Dispose() { }

        private void Attempt()
        {
            Interlocked.Increment(ref Attempts);
            if (Down) throw new MlflowUnavailableException("connection refused");
        }
    }

    private static MlflowOperation Metric(string key, long step) => new()
    {
        Kind = MlflowOperationKind.Batch, Metrics = new[] { new MlflowMetric(key, step / 10.0, 1000, step) },
    };

    [Fact]
    public void The_outbox_keeps_operations_and_state_on_disk_in_order_across_a_restart()
    {
        var outbox = new MlflowOutbox(_run, _ => { });
        outbox.Add(new MlflowOperation { Kind = MlflowOperationKind.Start, RunName = "r" });
        outbox.Add(Metric("loss", 1));
        outbox.Add(Metric("loss", 2));
        outbox.RemoveOldest();
        outbox.Update(s => s with { RunId = "abc", LoggedThroughStep = 2 });

        var reopened = new MlflowOutbox(_run, _ => { });
        Assert.Equal(2, reopened.Count);
        Assert.Equal(1, reopened.Oldest!.Metrics[0].Step);
        Assert.Equal(("abc", 2L), (reopened.State.RunId, reopened.State.LoggedThroughStep));
    }

    [Fact]
    public void The_sender_delivers_oldest_first_and_after_an_outage_retries_without_losing_anything()
    {
        using var store = new MemoryStore { Down = true };
        var outbox = new MlflowOutbox(_run, _ => { });
        var warnings = new ConcurrentQueue<string>();
        var sender = new MlflowSender(store, outbox, "exp", "run", warnings.Enqueue);
        outbox.Add(new MlflowOperation { Kind = MlflowOperationKind.Start, RunName = "run" });
        for (int step = 1; step <= 3; step++) outbox.Add(Metric("loss", step));
        outbox.WaitUntil(() => sender.Failing, TimeSpan.FromSeconds(10));
        Assert.True(sender.Failing);
        Assert.Equal(4, outbox.Count); // nothing lost while down
        store.Down = false;
        sender.RetryNow(); // cuts the back-off short
        var clock = Stopwatch.StartNew();
        outbox.WaitUntil(() => outbox.Count == 0, TimeSpan.FromSeconds(10));
        sender.Stop();
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"took {clock.Elapsed}");
        Assert.Equal(new[] { "start exp/run", "metric loss@1=0.1", "metric loss@2=0.2", "metric loss@3=0.3" }, store.Received);
        Assert.Single(warnings, w => w.Contains("is not answering", StringComparison.Ordinal));
        Assert.Equal("run-1", outbox.State.RunId);
        Assert.Equal("", File.ReadAllText(outbox.OutboxPath));
    }

    [Fact]
    public void A_refused_item_is_dropped_alone_with_one_warning_and_the_rest_is_sent()
    {
        using var store = new MemoryStore();
        store.RefusedKeys.Add("bad key");
        var outbox = new MlflowOutbox(_run, _ => { });
        var warnings = new ConcurrentQueue<string>();
        var sender = new MlflowSender(store, outbox, "exp", "run", warnings.Enqueue);
        outbox.Add(new MlflowOperation { Kind = MlflowOperationKind.Start });
        outbox.Add(new MlflowOperation
        {
            Kind = MlflowOperationKind.Batch,
            Metrics = new[] { new MlflowMetric("a", 1, 1, 1), new MlflowMetric("bad key", 2, 1, 1), new MlflowMetric("b", 3, 1, 1) },
        });
        outbox.WaitUntil(() => outbox.Count == 0, TimeSpan.FromSeconds(10));
        sender.Stop();
        Assert.Equal(new[] { "start exp/run", "metric a@1=1", "metric b@1=3" }, store.Received);
        Assert.Contains("refused metric 'bad key'", Assert.Single(warnings), StringComparison.Ordinal);
    }

    [Fact]
    public void The_hook_names_the_run_in_checkpoints_once_it_exists_and_adopts_a_checkpoints_run_when_its_state_was_lost()
    {
        var outbox = new MlflowOutbox(_run, _ => { });
        var hook = new MlflowHook(outbox, "run");
        var entries = new Dictionary<string, string>();
        hook.SavingCheckpoint(entries);
        Assert.Empty(entries); // the store has not created the run yet: nothing to name, and no wait
        outbox.Update(s => s with { RunId = "r-42" });
        hook.SavingCheckpoint(entries);
        Assert.Equal("r-42", entries[MlflowHook.RunIdEntry]);

        // mlflow.json lost, the checkpoint names the run: the tracker continues that run instead of creating another.
        File.Delete(Path.Combine(_run, "mlflow.json"));
        var fresh = new MlflowOutbox(_run, _ => { });
        new MlflowHook(fresh, "run").CheckpointRestored(new Dictionary<string, string> { [MlflowHook.RunIdEntry] = "r-42" });
        Assert.Equal("r-42", fresh.State.RunId);
    }
}
