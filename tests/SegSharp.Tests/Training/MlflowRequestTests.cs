using SegSharp.Training.Tracking;

namespace SegSharp.Tests.Training;

public class MlflowRequestTests
{
    [Fact]
    public void A_large_batch_is_split_into_requests_within_MLflow_s_limits_keeping_every_item_in_order()
    {
        var operation = new MlflowOperation
        {
            Kind = "batch",
            Metrics = Enumerable.Range(0, 2500).Select(i => new MlflowMetric($"m{i % 7}", i, 1000 + i, i)).ToList(),
            Params = Enumerable.Range(0, 250).Select(i => new MlflowTag($"p{i}", $"{i}")).ToList(),
            Tags = Enumerable.Range(0, 120).Select(i => new MlflowTag($"t{i}", "x")).ToList(),
        };
        var requests = MlflowTracker.Requests(operation).ToList();
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
    public void A_failing_server_is_retried_a_refusing_one_is_not()
    {
        using var server = new FakeMlflowServer { FailWith = 503 };
        using var store = new MlflowRestStore(server.Uri);
        var unavailable = Assert.Throws<MlflowUnavailableException>(() => store.StartRun("e", null, "r", Array.Empty<MlflowTag>(), 1));
        Assert.Contains("HTTP 503", unavailable.Message, StringComparison.Ordinal);
        server.FailWith = 404;
        Assert.Throws<MlflowRejectedException>(() => store.EndRun("nope", "FINISHED", 1));
        server.FailWith = null;
        var (runId, artifacts) = store.StartRun("e", null, "r", new[] { new MlflowTag("k", "v") }, 1);
        Assert.Equal($"mlflow-artifacts:/1/{runId}/artifacts", artifacts);
        // Params cannot change: the server refuses, and that is not worth retrying.
        store.LogBatch(runId, Array.Empty<MlflowMetric>(), new[] { new MlflowTag("lr", "0.1") }, Array.Empty<MlflowTag>());
        Assert.Throws<MlflowRejectedException>(() => store.LogBatch(runId, Array.Empty<MlflowMetric>(), new[] { new MlflowTag("lr", "0.2") },
            Array.Empty<MlflowTag>()));
        Assert.Single(server.Violations);
        server.Dispose();
        Assert.Throws<MlflowUnavailableException>(() => store.EndRun(runId, "FINISHED", 2));
    }

    [Fact]
    public void Credentials_come_from_MLflow_s_environment_variables()
    {
        using var server = new FakeMlflowServer();
        try
        {
            Environment.SetEnvironmentVariable("MLFLOW_TRACKING_TOKEN", "secret-token");
            using (var store = new MlflowRestStore(server.Uri)) store.StartRun("e", null, "r", Array.Empty<MlflowTag>(), 1);
            Assert.All(server.Authorizations, a => Assert.Equal("Bearer secret-token", a));
            Environment.SetEnvironmentVariable("MLFLOW_TRACKING_TOKEN", null);
            Environment.SetEnvironmentVariable("MLFLOW_TRACKING_USERNAME", "ann");
            Environment.SetEnvironmentVariable("MLFLOW_TRACKING_PASSWORD", "pw");
            while (server.Authorizations.TryDequeue(out _)) { }
            using (var store = new MlflowRestStore(server.Uri)) store.StartRun("e", null, "r2", Array.Empty<MlflowTag>(), 1);
            Assert.All(server.Authorizations, a => Assert.Equal("Basic " + Convert.ToBase64String("ann:pw"u8.ToArray()), a));
            Assert.NotEmpty(server.Authorizations);
        }
        finally
        {
            Environment.SetEnvironmentVariable("MLFLOW_TRACKING_TOKEN", null);
            Environment.SetEnvironmentVariable("MLFLOW_TRACKING_USERNAME", null);
            Environment.SetEnvironmentVariable("MLFLOW_TRACKING_PASSWORD", null);
        }
    }
}
