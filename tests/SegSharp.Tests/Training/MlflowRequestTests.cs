using System.Text.RegularExpressions;
using SegSharp.Configuration;
using SegSharp.Tracking;

namespace SegSharp.Tests.Training;

public class MlflowRequestTests
{
    /// <summary>MLflow 3.6's own rule (mlflow/utils/validation.py) for a name on a Windows server, the stricter of its two.</summary>
    private static readonly Regex MlflowName = new(@"^[/\w.\- ]*$");

    [Fact]
    public void A_large_batch_is_split_into_requests_within_MLflow_s_limits_keeping_every_item_in_order()
    {
        var operation = new MlflowOperation
        {
            Kind = MlflowOperationKind.Batch,
            Metrics = Enumerable.Range(0, 2500).Select(i => new MlflowMetric($"m{i % 7}", i, 1000 + i, i)).ToList(),
            Params = Enumerable.Range(0, 250).Select(i => new MlflowTag($"p{i}", $"{i}")).ToList(),
            Tags = Enumerable.Range(0, 120).Select(i => new MlflowTag($"t{i}", "x")).ToList(),
        };
        var requests = MlflowSender.Requests(operation).ToList();
        Assert.All(requests, r =>
        {
            Assert.True(r.Metrics.Length <= 1000 && r.Params.Length <= 100 && r.Tags.Length <= 100);
            Assert.True(r.Metrics.Length + r.Params.Length + r.Tags.Length <= 1000);
        });
        Assert.Equal(operation.Metrics, requests.SelectMany(r => r.Metrics));
        Assert.Equal(operation.Params, requests.SelectMany(r => r.Params));
        Assert.Equal(operation.Tags, requests.SelectMany(r => r.Tags));
        Assert.Equal(3 + 2 + 3, requests.Count);
    }

    [Fact]
    public void Every_config_path_becomes_a_key_MLflow_accepts_and_reads_back_to_the_same_path()
    {
        var config = SegSharpConfig.Load(TestPaths.Config("camvid-deeplab.yaml"), Array.Empty<string>());
        var paths = ConfigDifference.Flatten(config.EffectiveYaml, "test").Keys.ToList();
        Assert.Contains("loss.terms[0].name", paths);
        Assert.Equal("loss.terms.0.label_smoothing", MlflowKeys.Param("loss.terms[0].label_smoothing"));
        Assert.Equal("transforms.train.12.size", MlflowKeys.Param("transforms.train[12].size"));
        foreach (var path in paths)
        {
            string key = MlflowKeys.Param(path);
            Assert.Matches(MlflowName, key);
            Assert.Equal(key, System.IO.Path.GetFullPath("/" + key)[1..]);    // unchanged by path normalisation
            Assert.Equal(path, MlflowKeys.ConfigPath(key));
        }
        Assert.Equal(paths.Count, paths.Select(MlflowKeys.Param).Distinct().Count());
    }

    [Theory]
    [InlineData("Sky", "val_iou/Sky")]
    [InlineData("Sign/Symbol", "val_iou/Sign-2f-Symbol")]
    [InlineData("..", "val_iou/-2e--2e-")]
    [InlineData("road: wet", "val_iou/road-3a- wet")]
    [InlineData("Straße-3", "val_iou/Stra-df-e-2d-3")]
    [InlineData("cat 🐱", "val_iou/cat -1f431-")]
    [InlineData("a[0]", "val_iou/a-5b-0-5d-")]
    public void A_class_name_becomes_a_metric_key_MLflow_accepts_and_reads_back(string name, string key)
    {
        Assert.Equal(key, MlflowKeys.Metric("val_iou", name));
        Assert.Matches(MlflowName, key);
        Assert.Equal(name, MlflowKeys.Unescape(key["val_iou/".Length..]));
    }

    [Fact]
    public void A_key_past_MLflow_s_limit_is_cut_and_kept_distinct()
    {
        string a = MlflowKeys.Metric("val_iou", new string('a', 300)), b = MlflowKeys.Metric("val_iou", new string('a', 299) + "b");
        Assert.True(a.Length <= MlflowKeys.MaxLength && b.Length <= MlflowKeys.MaxLength);
        Assert.NotEqual(a, b);
        Assert.Matches(MlflowName, a);
    }

    [Theory]
    [InlineData("http://", false)]
    [InlineData("http://[::1", false)]
    [InlineData("https://", false)]
    [InlineData("http://localhost:5000", true)]
    [InlineData("https://mlflow.example.org/prefix/", true)]
    public void Only_an_http_URL_with_a_host_is_a_tracking_server(string uri, bool valid)
    {
        Assert.Equal(valid, MlflowRestStore.IsValid(uri, out string problem));
        Assert.Equal(valid, problem.Length == 0);
    }

    [Fact]
    public void A_reply_that_is_not_MLflow_s_is_unavailable_not_a_crash()
    {
        using (var html = new HostileHttpServer(HostileHttpServer.Behaviours.HtmlPage))
        using (var store = new MlflowRestStore(html.Uri))
        {
            var e = Assert.Throws<MlflowUnavailableException>(() => store.StartRun("e", null, "r", Array.Empty<MlflowTag>(), 1));
            Assert.Contains("the reply is not MLflow's (it starts '<!DOCTYPE html>", e.Message, StringComparison.Ordinal);
            Assert.DoesNotContain('\u001b', e.Message);
            // https:// to a plain-HTTP port: the TLS handshake fails.
            using var tls = new MlflowRestStore(html.Uri.Replace("http:", "https:", StringComparison.Ordinal));
            Assert.Throws<MlflowUnavailableException>(() => tls.StartRun("e", null, "r", Array.Empty<MlflowTag>(), 1));
        }
        using (var endless = new HostileHttpServer(HostileHttpServer.Behaviours.EndlessBody))
        using (var store = new MlflowRestStore(endless.Uri))
        {
            var e = Assert.Throws<MlflowUnavailableException>(() => store.StartRun("e", null, "r", Array.Empty<MlflowTag>(), 1));
            Assert.Contains("larger than 4 MB", e.Message, StringComparison.Ordinal);
            Thread.Sleep(500);
            Assert.True(endless.BytesSent < 64L << 20, $"{endless.BytesSent} bytes were taken from an endless reply");
        }
        using (var failing = new HostileHttpServer(HostileHttpServer.Behaviours.Unavailable))
        using (var store = new MlflowRestStore(failing.Uri))
            Assert.Contains("HTTP 503", Assert.Throws<MlflowUnavailableException>(() => store.EndRun("r", "FINISHED", 1)).Message, StringComparison.Ordinal);
        using (var hanging = new HostileHttpServer(HostileHttpServer.Behaviours.Hang))
        using (var store = new MlflowRestStore(hanging.Uri, TimeSpan.FromSeconds(1)))
            Assert.Contains("no answer", Assert.Throws<MlflowUnavailableException>(() => store.EndRun("r", "FINISHED", 1)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Credentials_come_from_MLflow_s_environment_variables_resolved_into_the_tracking_config()
    {
        using var server = new HostileHttpServer(HostileHttpServer.Behaviours.Unavailable);
        var tracking = SegSharpConfig.Load(null, new[] { $"tracking.mlflow.uri={server.Uri}" }).Tracking;
        var token = new Dictionary<string, string> { ["MLFLOW_TRACKING_TOKEN"] = "secret-token", ["MLFLOW_TRACKING_USERNAME"] = "ignored" };
        using (var store = MlflowTracker.CreateStore(tracking.WithEnvironment(token.GetValueOrDefault)))
            Assert.ThrowsAny<Exception>(() => store.EndRun("r", "FINISHED", 1));
        Assert.Equal("Bearer secret-token", Assert.Single(server.Authorizations));
        while (server.Authorizations.TryDequeue(out _)) { }
        var basic = new Dictionary<string, string> { ["MLFLOW_TRACKING_USERNAME"] = "ann", ["MLFLOW_TRACKING_PASSWORD"] = "pw" };
        using (var store = MlflowTracker.CreateStore(tracking.WithEnvironment(basic.GetValueOrDefault)))
            Assert.ThrowsAny<Exception>(() => store.EndRun("r", "FINISHED", 1));
        Assert.Equal("Basic " + Convert.ToBase64String("ann:pw"u8.ToArray()), Assert.Single(server.Authorizations));
        // Without the variables there is no header; the library itself reads no environment variable.
        while (server.Authorizations.TryDequeue(out _)) { }
        using (var store = MlflowTracker.CreateStore(tracking)) Assert.ThrowsAny<Exception>(() => store.EndRun("r", "FINISHED", 1));
        Assert.Null(Assert.Single(server.Authorizations));
    }

    [Fact]
    public void The_config_wins_over_MLflow_s_environment_variables_which_fill_only_what_it_leaves_empty()
    {
        var environment = new Dictionary<string, string> { ["MLFLOW_TRACKING_URI"] = "http://env:5000", ["MLFLOW_EXPERIMENT_NAME"] = "from-env" };
        var empty = SegSharpConfig.Load(null, Array.Empty<string>()).Tracking;
        Assert.Equal("", empty.MlflowUri);
        Assert.Equal("segsharp", empty.ExperimentOrDefault);
        var filled = empty.WithEnvironment(environment.GetValueOrDefault);
        Assert.Equal(("http://env:5000", "from-env"), (filled.MlflowUri, filled.ExperimentOrDefault));
        var set = SegSharpConfig.Load(null, new[] { "tracking.mlflow.uri=http://config:1", "tracking.mlflow.experiment=mine" }).Tracking
            .WithEnvironment(environment.GetValueOrDefault);
        Assert.Equal(("http://config:1", "mine"), (set.MlflowUri, set.ExperimentOrDefault));
    }

    [Fact]
    public void An_outbox_left_by_an_earlier_process_is_sent_and_a_line_that_is_no_operation_is_dropped_with_a_warning()
    {
        string root = TestPaths.TempFolder("outbox");
        string run = Path.Combine(root, "run"), store = Path.Combine(root, "mlruns");
        Directory.CreateDirectory(run);
        File.WriteAllLines(Path.Combine(run, "mlflow-outbox.jsonl"), new[]
        {
            """{"kind":"start","time":1000,"run_name":"left","tags":[]}""",
            """{"kind":"batch","time":2000,"metrics":[{"key":"val_mean_iou","value":0.5,"timestamp":2000,"step":3}]}""",
            """{"kind":"teleport","time":3000}""",
        });
        var messages = new List<string>();
        var config = SegSharpConfig.Load(null, new[] { $"output.dir={run}", $"tracking.mlflow.uri=file:{store}" });
        using (var tracker = MlflowTracker.Open(config, m => { lock (messages) messages.Add(m); })!)
            tracker.Finish("FINISHED", run, Array.Empty<string>());
        Assert.Contains(messages, m => m.Contains("1 line(s) of", StringComparison.Ordinal) && m.Contains("dropped", StringComparison.Ordinal));
        string metric = Directory.EnumerateFiles(store, "val_mean_iou", SearchOption.AllDirectories).Single();
        Assert.Equal("2000 0.5 3", File.ReadAllText(metric).Trim());
        Assert.Equal("", File.ReadAllText(Path.Combine(run, "mlflow-outbox.jsonl")));
    }
}
