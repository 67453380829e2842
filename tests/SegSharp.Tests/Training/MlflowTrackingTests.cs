using System.Globalization;
using System.Text.Json;
using SegSharp.Configuration;
using SegSharp.Training;
using SegSharp.Workflows;

namespace SegSharp.Tests.Training;

/// <summary>
/// MLflow tracking of real (tiny) training runs against <see cref="FakeMlflowServer"/>, which checks every request
/// against MLflow's REST API 2.0 documentation, and against the file-store layout. No real MLflow server was available
/// to test against (docs/tracking.md).
/// </summary>
[Collection("training")]
[Trait("Tier", "EndToEnd")]
public sealed class MlflowTrackingTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"segsharp-mlflow-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public void A_run_logs_its_config_tags_epoch_metrics_and_report_and_ends_FINISHED()
    {
        using var server = new FakeMlflowServer();
        string run = Path.Combine(_root, "tracked");
        var config = TinyRun.Config(run, $"tracking.mlflow.uri={server.Uri}", "tracking.mlflow.experiment=segsharp-tests");
        var outcome = TrainingWorkflow.Run(config, new RecordingObserver());

        Assert.Empty(server.Violations);
        Assert.Equal("1", Assert.Single(server.Experiments).Value);
        var logged = Assert.Single(server.Runs.Values);
        Assert.Equal("tracked", logged.Name);
        Assert.Equal(new[] { "RUNNING", "FINISHED" }, logged.Statuses);
        Assert.NotNull(logged.EndTime);

        // Tags: version, commit, dataset and its content hash, libraries.
        using var dataset = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "dataset.json")));
        Assert.Equal(dataset.RootElement.GetProperty("content_sha256").GetString(), logged.Tags["segsharp.dataset_sha256"]);
        Assert.Equal("shapes", logged.Tags["segsharp.dataset"]);
        Assert.Equal("tracked", logged.Tags["mlflow.runName"]);
        foreach (var tag in new[] { "segsharp.version", "segsharp.git_commit", "segsharp.torchsharp", "segsharp.libtorch", "segsharp.world_size" })
            Assert.False(string.IsNullOrEmpty(logged.Tags[tag]), tag);

        // Params: the flattened effective config, every key.
        var flat = ConfigDifference.Flatten(config.EffectiveYaml, "test");
        Assert.Equal(flat.Count, logged.Params.Count);
        Assert.Equal("2", logged.Params["train.batch_size"]);
        Assert.Equal(server.Uri, logged.Params["tracking.mlflow.uri"]);

        // Metrics: one value per epoch at the epoch's global step, equal to metrics.jsonl.
        var history = outcome.Training.State.History;
        Assert.Equal(3, history.Count);
        foreach (var (key, pick) in new (string, Func<EpochRecord, double?>)[]
        {
            ("train_loss", r => r.TrainLoss), ("lr", r => r.LR), ("val_loss", r => r.ValidationLoss), ("val_mean_iou", r => r.MeanIoU),
            ("val_mean_dice", r => r.MeanDice), ("val_pixel_accuracy", r => r.PixelAccuracy), ("val_iou/background", r => r.ClassIoU![0]),
        })
        {
            var values = logged.Metrics.Where(m => m.Key == key).ToList();
            Assert.Equal(history.Select(h => h.Step), values.Select(v => v.Step));
            Assert.Equal(history.Select(h => pick(h)!.Value), values.Select(v => v.Value));
        }

        // Artifacts: the run's files and the report, byte for byte; no checkpoints.
        foreach (var name in new[] { "config.yaml", "summary.json", "metrics.jsonl", "report/report.html", "report/metrics.json", "report/loss.png" })
            Assert.Equal(File.ReadAllBytes(Path.Combine(run, name)), logged.Artifacts[name]);
        Assert.DoesNotContain(logged.Artifacts.Keys, k => k.EndsWith(".ckpt", StringComparison.Ordinal));

        // The run directory names its MLflow run (what resume reads), and so does the final checkpoint (the tracker waits
        // for the background sender's id before the last epoch is checkpointed); nothing is left to send.
        Assert.Contains(logged.Id, File.ReadAllText(Path.Combine(run, "mlflow.json")), StringComparison.Ordinal);
        var checkpoint = Checkpoint.Parse(File.ReadAllBytes(Path.Combine(run, "checkpoints", "last.ckpt")));
        Assert.Equal(logged.Id, checkpoint.State.TrackingRunId);
        Assert.Equal("", File.ReadAllText(Path.Combine(run, "mlflow-outbox.jsonl")));
    }

    [Fact]
    public void A_resumed_run_continues_the_same_MLflow_run_without_logging_a_step_twice()
    {
        using var server = new FakeMlflowServer();
        string run = Path.Combine(_root, "resumed");
        string[] tracking = { $"tracking.mlflow.uri={server.Uri}" };
        using (var cancel = new CancellationTokenSource())
        {
            var interrupted = TrainingWorkflow.Run(TinyRun.Config(run, tracking), new RecordingObserver(cancel, cancelAtStep: 6), stop: cancel.Token);
            Assert.True(interrupted.Training.Interrupted);
        }
        var first = Assert.Single(server.Runs.Values);
        Assert.Equal("KILLED", first.Statuses[^1]);

        TrainingWorkflow.Run(TinyRun.Config(run, tracking), new RecordingObserver());
        Assert.Empty(server.Violations);
        Assert.Same(first, Assert.Single(server.Runs.Values));
        Assert.Single(server.Calls, c => c == "POST mlflow/runs/create");
        Assert.Equal(new[] { "RUNNING", "KILLED", "RUNNING", "FINISHED" }, first.Statuses);
        foreach (var metric in first.Metrics.GroupBy(m => m.Key))
            Assert.Equal(metric.Select(m => m.Step).Distinct().Count(), metric.Count());
        Assert.Equal(new long[] { 4, 8, 12 }, first.Metrics.Where(m => m.Key == "val_mean_iou").Select(m => m.Step));
    }

    [Fact]
    public void A_server_that_fails_or_hangs_never_stops_training_and_gets_everything_when_the_run_is_started_again()
    {
        using var server = new FakeMlflowServer { FailWith = 503 };
        string run = Path.Combine(_root, "offline");
        string[] tracking = { $"tracking.mlflow.uri={server.Uri}", "tracking.mlflow.flush_seconds=1" };
        var observer = new RecordingObserver();
        var offline = TrainingWorkflow.Run(TinyRun.Config(run, tracking), observer, evaluate: false);
        Assert.False(offline.Training.Interrupted);
        Assert.Empty(server.Runs);
        // One warning for the outage, one saying where the unsent data is; nothing else from MLflow.
        Assert.Single(observer.Messages, m => m.Contains("is not answering", StringComparison.Ordinal) && m.Contains("HTTP 503", StringComparison.Ordinal));
        Assert.Single(observer.Messages, m => m.Contains("kept in", StringComparison.Ordinal) && m.Contains("mlflow-outbox.jsonl", StringComparison.Ordinal));
        int pending = File.ReadAllLines(Path.Combine(run, "mlflow-outbox.jsonl")).Length;
        Assert.True(pending >= 5, $"{pending} operations kept");

        // The server comes back; starting the finished run again sends what was kept, once.
        server.FailWith = null;
        TrainingWorkflow.Run(TinyRun.Config(run, tracking.Append("tracking.mlflow.flush_seconds=30").ToArray()), new RecordingObserver(), evaluate: false);
        Assert.Empty(server.Violations);
        var logged = Assert.Single(server.Runs.Values);
        Assert.Equal("FINISHED", logged.Statuses[^1]);
        Assert.Equal(new long[] { 4, 8, 12 }, logged.Metrics.Where(m => m.Key == "val_mean_iou").Select(m => m.Step));
        Assert.Equal("", File.ReadAllText(Path.Combine(run, "mlflow-outbox.jsonl")));

        // A server that accepts connections and never answers: training does not wait for it.
        using var hanging = new FakeMlflowServer { Delay = TimeSpan.FromSeconds(60) };
        var clock = System.Diagnostics.Stopwatch.StartNew();
        TrainingWorkflow.Run(TinyRun.Config(Path.Combine(_root, "hanging"), $"tracking.mlflow.uri={hanging.Uri}", "tracking.mlflow.flush_seconds=0"),
            new RecordingObserver(), evaluate: false);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(45), $"training took {clock.Elapsed} with a server that never answers");
    }

    [Fact]
    public void A_file_uri_writes_MLflow_s_file_store_layout()
    {
        string store = Path.Combine(_root, "mlruns");
        string run = Path.Combine(_root, "filed");
        var outcome = TrainingWorkflow.Run(TinyRun.Config(run, $"tracking.mlflow.uri=file:{store}", "tracking.mlflow.experiment=shapes study"),
            new RecordingObserver());

        Assert.Contains("name: Default", File.ReadAllText(Path.Combine(store, "0", "meta.yaml")).Replace("'", "", StringComparison.Ordinal));
        string experiment = Directory.EnumerateDirectories(store).Single(d => Path.GetFileName(d) != "0");
        var experimentMeta = Meta(Path.Combine(experiment, "meta.yaml"));
        Assert.Equal("'shapes study'", experimentMeta["name"]);
        Assert.Equal("active", experimentMeta["lifecycle_stage"]);
        Assert.Equal($"'{Path.GetFileName(experiment)}'", experimentMeta["experiment_id"]);

        string runFolder = Assert.Single(Directory.EnumerateDirectories(experiment));
        string runId = Path.GetFileName(runFolder);
        var meta = Meta(Path.Combine(runFolder, "meta.yaml"));
        Assert.Equal(runId, meta["run_id"]);
        Assert.Equal(runId, meta["run_uuid"]);
        Assert.Equal("3", meta["status"]);                        // FINISHED
        Assert.Equal("'filed'", meta["run_name"]);
        Assert.True(long.Parse(meta["end_time"], CultureInfo.InvariantCulture) >= long.Parse(meta["start_time"], CultureInfo.InvariantCulture));
        Assert.Equal(new Uri(Path.Combine(runFolder, "artifacts")).AbsoluteUri, meta["artifact_uri"]);
        foreach (var field in new[] { "end_time", "entry_point_name", "experiment_id", "lifecycle_stage", "source_name", "source_type", "source_version",
            "start_time", "tags", "user_id" })
            Assert.True(meta.ContainsKey(field), field);

        // metrics/KEY: "timestamp value step" per line, the values of metrics.jsonl.
        var lines = File.ReadAllLines(Path.Combine(runFolder, "metrics", "val_mean_iou")).Select(l => l.Split(' ')).ToList();
        Assert.All(lines, l => Assert.Equal(3, l.Length));
        var history = outcome.Training.State.History;
        Assert.Equal(history.Select(h => h.MeanIoU!.Value), lines.Select(l => double.Parse(l[1], CultureInfo.InvariantCulture)));
        Assert.Equal(history.Select(h => h.Step), lines.Select(l => long.Parse(l[2], CultureInfo.InvariantCulture)));
        Assert.True(File.Exists(Path.Combine(runFolder, "metrics", "val_iou", "background")));
        Assert.Equal("2", File.ReadAllText(Path.Combine(runFolder, "params", "train.batch_size")));
        Assert.Equal("filed", File.ReadAllText(Path.Combine(runFolder, "tags", "mlflow.runName")));
        Assert.Equal(File.ReadAllBytes(Path.Combine(run, "report", "report.html")),
            File.ReadAllBytes(Path.Combine(runFolder, "artifacts", "report", "report.html")));
    }

    [Fact]
    public void An_unknown_tracking_uri_is_refused_with_the_forms_that_work()
    {
        var config = TinyRun.Config(Path.Combine(_root, "bad"), "tracking.mlflow.uri=ftp://example.org/mlruns");
        var error = Assert.Throws<SegSharpException>(() => TrainingWorkflow.Run(config, new RecordingObserver()));
        Assert.Contains("'ftp://example.org/mlruns'", error.Message, StringComparison.Ordinal);
        Assert.Contains("file:./mlruns", error.Message, StringComparison.Ordinal);
    }

    private static Dictionary<string, string> Meta(string path) =>
        File.ReadAllLines(path).ToDictionary(l => l[..l.IndexOf(": ", StringComparison.Ordinal)], l => l[(l.IndexOf(": ", StringComparison.Ordinal) + 2)..]);
}
