using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using SegSharp.Configuration;
using SegSharp.Tests.Cli;
using SegSharp.Training;
using SegSharp.Tracking;
using SegSharp.Workflows;

namespace SegSharp.Tests.Training;

/// <summary>
/// MLflow tracking of real (tiny) training runs against the real MLflow 3.6 server of ../shared/mlflow-server, read back
/// through MLflow's own REST API (and, for the file store, MLflow's own Python client), and compared with the run folder.
/// </summary>
[Collection("training")]
[Trait("Tier", "EndToEnd")]
public sealed class MlflowTrackingTests : IDisposable
{
    private readonly string _root = TestPaths.TempFolder("mlflow");

    public void Dispose()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public void A_run_logs_its_config_tags_epoch_metrics_and_report_to_the_real_server_and_ends_FINISHED()
    {
        using var server = new MlflowServer();
        string run = Path.Combine(_root, "tracked");
        var config = TinyRun.Config(run, $"tracking.mlflow.uri={server.Uri}", "tracking.mlflow.experiment=segsharp-tests");
        // The tracker never waits for the server; this test does, once, so that the run exists before the first checkpoint.
        var observer = new RecordingHook(onStep: step =>
        {
            if (step == 1) WaitForRunId(run);
        });
        var outcome = TrainingWorkflow.Run(config, new[] { observer });

        Assert.DoesNotContain(observer.Messages, m => m.Contains("MLflow", StringComparison.Ordinal));
        string runId = Assert.Single(server.RunIds("segsharp-tests"));
        var logged = server.Run(runId);
        Assert.Equal("FINISHED", logged.Status);
        Assert.Equal("tracked", logged.Info["run_name"]!.GetValue<string>());
        Assert.NotNull(logged.EndTime);

        // Tags: version, commit, dataset and its content hash, libraries.
        using var dataset = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "dataset.json")));
        Assert.Equal(dataset.RootElement.GetProperty("content_sha256").GetString(), logged.Tags["segsharp.dataset_sha256"]);
        Assert.Equal("shapes", logged.Tags["segsharp.dataset"]);
        foreach (var tag in new[] { "segsharp.version", "segsharp.git_commit", "segsharp.torchsharp", "segsharp.libtorch", "segsharp.world_size" })
            Assert.False(string.IsNullOrEmpty(logged.Tags[tag]), tag);

        // Params: every leaf of the effective config arrived, under its MLflow key, and reads back to its config path.
        var flat = ConfigDifference.Flatten(config.EffectiveYaml, "test");
        Assert.Equal(flat.Count, logged.Params.Count);
        foreach (var (key, value) in logged.Params) Assert.Equal(flat[MlflowKeys.ConfigPath(key)], value);
        Assert.Equal("0.2", logged.Params["transforms.train.3.brightness"]);
        Assert.Equal(server.Uri, logged.Params["tracking.mlflow.uri"]);

        // Metrics: every key, one value per epoch at the epoch's global step, equal to metrics.jsonl.
        var history = outcome.Training.State.History;
        Assert.Equal(3, history.Count);
        var classes = new[] { "background", "disc", "square", "triangle" };
        var expected = new List<(string, Func<EpochRecord, double?>)>
        {
            ("train_loss", r => r.TrainLoss), ("lr", r => r.LR), ("val_loss", r => r.ValidationLoss), ("val_mean_iou", r => r.MeanIoU),
            ("val_mean_dice", r => r.MeanDice), ("val_pixel_accuracy", r => r.PixelAccuracy), ("train_images_per_second", r => r.ImagesPerSecond),
        };
        for (int c = 0; c < classes.Length; c++)
        {
            int k = c;
            expected.Add(($"val_iou/{classes[c]}", r => r.ClassIoU![k]));
            expected.Add(($"val_dice/{classes[c]}", r => r.ClassDice![k]));
        }
        Assert.Equal(expected.Select(e => e.Item1).Order(StringComparer.Ordinal), logged.MetricKeys.Order(StringComparer.Ordinal));
        foreach (var (key, pick) in expected)
        {
            var values = server.History(runId, key);
            Assert.Equal(history.Select(h => h.Step), values.Select(v => v.Step));
            Assert.Equal(history.Select(h => pick(h)!.Value), values.Select(v => v.Value));
        }

        // Artifacts: the run's files and the whole report, byte for byte; no checkpoints.
        var artifacts = server.Artifacts(runId);
        var files = new[] { "config.yaml", "summary.json", "metrics.jsonl", "metrics.csv", "environment.json", "dataset.json" }
            .Concat(Directory.EnumerateFiles(Path.Combine(run, "report"), "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(run, f)))
            .Order(StringComparer.Ordinal).ToList();
        Assert.Equal(files, artifacts.Keys.Order(StringComparer.Ordinal));
        foreach (var name in files) Assert.Equal(File.ReadAllBytes(Path.Combine(run, name)), artifacts[name]);

        // The run directory and the final checkpoint name the MLflow run; nothing is left to send.
        Assert.Contains(runId, File.ReadAllText(Path.Combine(run, "mlflow.json")), StringComparison.Ordinal);
        Assert.Equal(runId, Checkpoint.Parse(File.ReadAllBytes(Path.Combine(run, "checkpoints", "last.ckpt"))).State.HookEntries["mlflow.run_id"]);
        Assert.Equal(runId, Checkpoint.Parse(File.ReadAllBytes(Path.Combine(run, "checkpoints", "best.ckpt"))).State.HookEntries["mlflow.run_id"]);
        Assert.Equal("", File.ReadAllText(Path.Combine(run, "mlflow-outbox.jsonl")));

        // Starting the finished run again sends nothing: no request reaches the server, its end time stays.
        int requests = Requests(server);
        TrainingWorkflow.Run(TinyRun.Config(run, $"tracking.mlflow.uri={server.Uri}", "tracking.mlflow.experiment=segsharp-tests"),
            new[] { new RecordingHook() }, evaluate: false);
        Assert.Equal(requests, Requests(server));
        Assert.Equal(logged.EndTime, server.Run(runId).EndTime);
    }

    private static void WaitForRunId(string run)
    {
        string state = Path.Combine(run, "mlflow.json");
        var clock = Stopwatch.StartNew();
        bool Named()
        {
            if (!File.Exists(state)) return false;
            using var json = JsonDocument.Parse(File.ReadAllText(state));
            return json.RootElement.TryGetProperty("run_id", out var id) && id.ValueKind == JsonValueKind.String;
        }
        while (!Named() && clock.Elapsed < TimeSpan.FromSeconds(20)) Thread.Sleep(20);
    }

    [Fact]
    public void A_resumed_run_continues_the_same_MLflow_run_without_logging_a_step_twice()
    {
        using var server = new MlflowServer();
        string run = Path.Combine(_root, "resumed");
        string[] tracking = { $"tracking.mlflow.uri={server.Uri}" };
        using (var cancel = new CancellationTokenSource())
        {
            var interrupted = TrainingWorkflow.Run(TinyRun.Config(run, tracking), new[] { new RecordingHook(cancel, cancelAtStep: 6) }, stop: cancel.Token);
            Assert.True(interrupted.Training.Interrupted);
        }
        string runId = Assert.Single(server.RunIds("segsharp"));
        Assert.Equal("KILLED", server.Run(runId).Status);

        TrainingWorkflow.Run(TinyRun.Config(run, tracking), new[] { new RecordingHook() });
        Assert.Equal(runId, Assert.Single(server.RunIds("segsharp")));
        Assert.Equal("FINISHED", server.Run(runId).Status);
        Assert.Equal(new long[] { 4, 8, 12 }, server.History(runId, "val_mean_iou").Select(v => v.Step));
        Assert.Equal(new long[] { 4, 8, 12 }, server.History(runId, "train_loss").Select(v => v.Step));
    }

    [Fact]
    public void A_server_stopped_mid_run_and_restarted_gets_everything_and_training_never_waits()
    {
        using var server = new MlflowServer();
        string run = Path.Combine(_root, "outage");
        var observer = new RecordingHook(onStep: step =>
        {
            if (step == 3) server.Stop();
            if (step == 9) server.Start();
        });
        var outcome = TrainingWorkflow.Run(TinyRun.Config(run, $"tracking.mlflow.uri={server.Uri}"), new[] { observer }, evaluate: false);
        Assert.False(outcome.Training.Interrupted);
        Assert.Single(observer.Messages, m => m.Contains("is not answering", StringComparison.Ordinal));
        string runId = Assert.Single(server.RunIds("segsharp"));
        Assert.Equal("FINISHED", server.Run(runId).Status);
        Assert.Equal(new long[] { 4, 8, 12 }, server.History(runId, "val_mean_iou").Select(v => v.Step));
        Assert.Equal("", File.ReadAllText(Path.Combine(run, "mlflow-outbox.jsonl")));
    }

    [Fact]
    public void A_server_never_up_costs_the_end_of_the_run_seconds_at_most_and_gets_everything_when_the_run_is_started_again()
    {
        int port = MlflowServer.FreePort();
        string run = Path.Combine(_root, "offline");
        string uri = $"http://127.0.0.1:{port}";
        var observer = new RecordingHook();
        var clock = Stopwatch.StartNew();
        var offline = TrainingWorkflow.Run(TinyRun.Config(run, $"tracking.mlflow.uri={uri}"), new[] { observer }, evaluate: false);
        var tracked = clock.Elapsed;
        clock.Restart();
        TrainingWorkflow.Run(TinyRun.Config(Path.Combine(_root, "untracked")), new[] { new RecordingHook() }, evaluate: false);
        var untracked = clock.Elapsed;
        Assert.False(offline.Training.Interrupted);
        // flush_seconds is 30 by default: a refused connection must not make the end wait for it.
        Assert.True(tracked - untracked < TimeSpan.FromSeconds(4), $"tracked {tracked}, untracked {untracked}");
        Assert.Single(observer.Messages, m => m.Contains("is not answering", StringComparison.Ordinal));
        Assert.Single(observer.Messages, m => m.Contains("kept in", StringComparison.Ordinal) && m.Contains("mlflow-outbox.jsonl", StringComparison.Ordinal));
        Assert.True(File.ReadAllLines(Path.Combine(run, "mlflow-outbox.jsonl")).Length >= 5);

        // The server comes up on that port; starting the finished run again sends what was kept, once.
        using var server = new MlflowServer(port: port);
        TrainingWorkflow.Run(TinyRun.Config(run, $"tracking.mlflow.uri={uri}"), new[] { new RecordingHook() }, evaluate: false);
        string runId = Assert.Single(server.RunIds("segsharp"));
        Assert.Equal("FINISHED", server.Run(runId).Status);
        Assert.Equal(new long[] { 4, 8, 12 }, server.History(runId, "val_mean_iou").Select(v => v.Step));
        Assert.Equal("", File.ReadAllText(Path.Combine(run, "mlflow-outbox.jsonl")));
    }

    [Fact]
    public void Kill_9_then_the_same_command_continues_the_same_MLflow_run()
    {
        using var server = new MlflowServer();
        string run = Path.Combine(_root, "killed");
        var environment = new Dictionary<string, string> { ["MLFLOW_TRACKING_URI"] = server.Uri };
        var args = CliProcess.TinyTrain(run, "train.epochs=4");
        args.Add("--no-evaluate");
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "SegSharp.Cli.dll"));
        foreach (var a in args) info.ArgumentList.Add(a);
        info.Environment["CI"] = "true";
        info.Environment["MLFLOW_TRACKING_URI"] = server.Uri;
        using (var child = Process.Start(info)!)
        {
            string first = Path.Combine(run, "metrics.jsonl");
            var clock = Stopwatch.StartNew();
            while (!(File.Exists(first) && File.ReadAllLines(first).Length >= 1) && !child.HasExited && clock.Elapsed < TimeSpan.FromSeconds(120))
                Thread.Sleep(20);
            Assert.False(child.HasExited, "the run ended before the kill");
            child.Kill(entireProcessTree: true);
            child.WaitForExit();
        }
        var (code, output, error) = CliProcess.Run(args, environment);
        Assert.True(code == 0, output + error);
        string runId = Assert.Single(server.RunIds("segsharp"));
        Assert.Equal("FINISHED", server.Run(runId).Status);
        Assert.Equal(new long[] { 4, 8, 12, 16 }, server.History(runId, "val_mean_iou").Select(v => v.Step));
    }

    [Theory]
    [InlineData("html")]
    [InlineData("endless")]
    [InlineData("http://")]
    [InlineData("http://[::1")]
    [InlineData("tls")]
    public void A_tracking_URI_that_is_not_an_MLflow_server_gets_one_warning_and_training_goes_on(string target)
    {
        using var html = new HostileHttpServer(HostileHttpServer.Behaviours.HtmlPage);
        using var endless = new HostileHttpServer(HostileHttpServer.Behaviours.EndlessBody);
        string uri = target switch
        {
            "html" => html.Uri,
            "endless" => endless.Uri,
            "tls" => html.Uri.Replace("http://", "https://", StringComparison.Ordinal),
            _ => target,
        };
        var observer = new RecordingHook();
        long before = GC.GetTotalAllocatedBytes();
        var outcome = TrainingWorkflow.Run(TinyRun.Config(Path.Combine(_root, "hostile"), $"tracking.mlflow.uri={uri}"), new[] { observer }, evaluate: false);
        Assert.False(outcome.Training.Interrupted);
        Assert.Equal(3, outcome.Training.State.History.Count);
        var warnings = observer.Messages.Where(m => m.Contains("MLflow", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, warnings.Count);    // what went wrong, once; where the unsent data is kept
        Assert.Contains(warnings, m => m.Contains("kept in", StringComparison.Ordinal));
        Assert.All(warnings, m => Assert.DoesNotContain('\u001b', m));
        if (target == "html") Assert.Contains("not MLflow's", warnings[0], StringComparison.Ordinal);
        if (target == "endless")
        {
            Assert.Contains("larger than 4 MB", warnings[0], StringComparison.Ordinal);
            Assert.True(GC.GetTotalAllocatedBytes() - before < 1L << 30, "the endless reply was read into memory");
        }
        if (target.StartsWith("http://", StringComparison.Ordinal)) Assert.Contains("is not a valid http(s) URL", warnings[0], StringComparison.Ordinal);
    }

    [Fact]
    public void A_file_uri_writes_a_file_store_that_MLflow_itself_reads()
    {
        string store = Path.Combine(_root, "mlruns");
        string run = Path.Combine(_root, "filed");
        var outcome = TrainingWorkflow.Run(TinyRun.Config(run, $"tracking.mlflow.uri=file:{store}", "tracking.mlflow.experiment=shapes study"),
            new[] { new RecordingHook() });

        // MLflow's own client (MlflowClient on the file store), not a reading of the layout by this test.
        string script = """
            import json, sys
            from mlflow.tracking import MlflowClient
            client = MlflowClient(tracking_uri=sys.argv[1])
            experiment = client.get_experiment_by_name("shapes study")
            runs = client.search_runs([experiment.experiment_id])
            run = runs[0]
            history = {k: [[m.step, m.value] for m in client.get_metric_history(run.info.run_id, k)] for k in run.data.metrics}
            artifacts = [f.path for f in client.list_artifacts(run.info.run_id, "report")]
            print(json.dumps({"runs": len(runs), "status": run.info.status, "name": run.info.run_name, "params": run.data.params,
                              "tags": run.data.tags, "history": history, "artifacts": artifacts}))
            """;
        string shared = Path.GetFullPath(Path.Combine(TestPaths.RepositoryRoot, "..", "shared", "mlflow-server"));
        var environment = new Dictionary<string, string>
        {
            ["PYTHONPATH"] = $"{shared}/site:{shared}/src", ["PYTHONDONTWRITEBYTECODE"] = "1", ["MLFLOW_ALLOW_FILE_STORE"] = "true",
        };
        string json = ChildProcess.Run(Prerequisite.Python, _root, environment, "-c", script, new Uri(store).AbsoluteUri).Trim().Split('\n')[^1];
        using var read = JsonDocument.Parse(json);
        var root = read.RootElement;
        Assert.Equal(1, root.GetProperty("runs").GetInt32());
        Assert.Equal("FINISHED", root.GetProperty("status").GetString());
        Assert.Equal("filed", root.GetProperty("name").GetString());
        var flat = ConfigDifference.Flatten(File.ReadAllText(Path.Combine(run, "config.yaml")), "test");
        var parameters = root.GetProperty("params").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);
        Assert.Equal(flat.Count, parameters.Count);
        foreach (var (key, value) in parameters) Assert.Equal(flat[MlflowKeys.ConfigPath(key)], value);
        var history = outcome.Training.State.History;
        var iou = root.GetProperty("history").GetProperty("val_mean_iou").EnumerateArray().Select(p => (p[0].GetInt64(), p[1].GetDouble())).ToList();
        Assert.Equal(history.Select(h => (h.Step, h.MeanIoU!.Value)), iou);
        Assert.Equal(3, root.GetProperty("history").GetProperty("val_iou/disc").GetArrayLength());
        Assert.Contains("report/report.html", root.GetProperty("artifacts").EnumerateArray().Select(a => a.GetString()));
        Assert.Equal("filed", root.GetProperty("tags").GetProperty("mlflow.runName").GetString());
    }

    [Fact]
    public void A_refused_item_loses_only_itself_the_rest_of_its_batch_arrives()
    {
        using var server = new MlflowServer();
        using var store = new MlflowRestStore(server.Uri);
        var (runId, _) = store.StartRun("splitting", null, "r", Array.Empty<MlflowTag>(), 1);
        store.LogBatch(runId, Array.Empty<MlflowMetric>(), new[] { new MlflowTag("fixed", "1") }, Array.Empty<MlflowTag>());
        var parameters = Enumerable.Range(0, 98).Select(i => new MlflowTag($"p{i}", $"{i}"))
            .Append(new MlflowTag("bad[key]", "x"))                     // a key MLflow refuses
            .Append(new MlflowTag("fixed", "2"))                        // params cannot change
            .ToArray();
        var refused = new List<(string Kind, string Key)>();
        MlflowSender.LogSplitting(store, runId, (Array.Empty<MlflowMetric>(), parameters, Array.Empty<MlflowTag>()),
            (kind, key, _) => refused.Add((kind, key)));
        Assert.Equal(new[] { ("param", "bad[key]"), ("param", "fixed") }, refused);
        var logged = server.Run(runId).Params;
        Assert.Equal(99, logged.Count);
        Assert.Equal("1", logged["fixed"]);
        Assert.All(Enumerable.Range(0, 98), i => Assert.Equal($"{i}", logged[$"p{i}"]));
    }

    [Fact]
    public void An_unknown_tracking_uri_is_refused_with_the_forms_that_work()
    {
        var config = TinyRun.Config(Path.Combine(_root, "bad"), "tracking.mlflow.uri=ftp://example.org/mlruns");
        var error = Assert.Throws<SegSharpException>(() => TrainingWorkflow.Run(config, new[] { new RecordingHook() }));
        Assert.Contains("'ftp://example.org/mlruns'", error.Message, StringComparison.Ordinal);
        Assert.Contains("file:./mlruns", error.Message, StringComparison.Ordinal);
    }

    /// <summary>Requests that write to a run, so far (uvicorn logs one line per request).</summary>
    private static int Requests(MlflowServer server) =>
        server.Log.Split('\n').Count(l => l.Contains("\"PUT /api/2.0/mlflow-artifacts/", StringComparison.Ordinal) ||
            new[] { "create", "log-batch", "update" }.Any(e => l.Contains($"\"POST /api/2.0/mlflow/runs/{e} ", StringComparison.Ordinal)));
}
