using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace SegSharp.Tracking;

/// <summary>
/// An MLflow tracking server through its REST API 2.0 (the endpoints MLflow 2.x and 3.x serve under /api/2.0/mlflow):
/// experiments/get-by-name and experiments/create, runs/create, runs/get, runs/log-batch, runs/update, and artifact upload
/// through the server's artifact proxy (PUT /api/2.0/mlflow-artifacts/artifacts/...) for runs whose artifact location is
/// <c>mlflow-artifacts:/...</c>. Credentials: a bearer token, else basic authentication (the command line takes them from
/// MLFLOW_TRACKING_TOKEN or MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD, <see cref="Configuration.TrackingConfig.WithEnvironment"/>).
/// </summary>
public sealed class MlflowRestStore : IMlflowStore
{
    /// <summary>The largest reply read (MLflow's replies to these calls are a few kilobytes); a larger one is not MLflow's.</summary>
    public const int MaxReplyBytes = 4 << 20;

    private readonly HttpClient _http;

    /// <param name="token">A bearer token; empty for none.</param>
    /// <param name="user">Basic authentication's user, used without a token; empty for none.</param>
    public MlflowRestStore(string uri, TimeSpan? timeout = null, string token = "", string user = "", string password = "")
    {
        Uri = uri.TrimEnd('/');
        _http = new HttpClient { Timeout = timeout ?? TimeSpan.FromSeconds(10) };
        if (token.Length > 0)
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        else if (user.Length > 0)
            _http.DefaultRequestHeaders.Authorization =
                new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));
    }

    public string Uri { get; }

    /// <summary>Whether <paramref name="uri"/> is an absolute http(s) URL with a host; otherwise <paramref name="problem"/> says why.</summary>
    public static bool IsValid(string uri, out string problem)
    {
        problem = System.Uri.TryCreate(uri, UriKind.Absolute, out var parsed) && parsed.Host.Length > 0 && parsed.Scheme is "http" or "https"
            ? ""
            : $"'{uri}' is not a valid http(s) URL (expected http://host:port)";
        return problem.Length == 0;
    }

    public (string RunId, string ArtifactUri) StartRun(string experiment, string? runId, string runName, IReadOnlyList<MlflowTag> tags, long startTime)
    {
        if (runId is not null)
        {
            var existing = Send(HttpMethod.Get, $"runs/get?run_id={System.Uri.EscapeDataString(runId)}", null);
            Send(HttpMethod.Post, "runs/update", new JsonObject { ["run_id"] = runId, ["status"] = "RUNNING" });
            return (runId, Text(existing, "runs/get", ["run", "info", "artifact_uri"], optional: true));
        }
        string experimentId = ExperimentId(experiment);
        var created = Send(HttpMethod.Post, "runs/create", new JsonObject
        {
            ["experiment_id"] = experimentId, ["run_name"] = runName, ["start_time"] = startTime, ["tags"] = Pairs(tags),
        });
        return (Text(created, "runs/create", ["run", "info", "run_id"]), Text(created, "runs/create", ["run", "info", "artifact_uri"], optional: true));
    }

    public void LogBatch(string runId, IReadOnlyList<MlflowMetric> metrics, IReadOnlyList<MlflowTag> parameters, IReadOnlyList<MlflowTag> tags) =>
        Send(HttpMethod.Post, "runs/log-batch", new JsonObject
        {
            ["run_id"] = runId,
            ["metrics"] = new JsonArray(metrics.Select(m => (JsonNode)new JsonObject
            {
                ["key"] = m.Key, ["value"] = m.Value, ["timestamp"] = m.Timestamp, ["step"] = m.Step,
            }).ToArray()),
            ["params"] = Pairs(parameters),
            ["tags"] = Pairs(tags),
        });

    public void UploadArtifact(string runId, string artifactUri, string localPath, string artifactPath)
    {
        const string proxied = "mlflow-artifacts:";
        if (!artifactUri.StartsWith(proxied, StringComparison.Ordinal))
            throw new MlflowRejectedException($"the run's artifact location '{artifactUri}' is not served by the tracking server's artifact proxy " +
                "(start the server with --serve-artifacts); artifacts stay in the run directory");
        string path = artifactUri[proxied.Length..].TrimStart('/') + "/" + artifactPath;
        string url = $"{Uri}/api/2.0/mlflow-artifacts/artifacts/{string.Join('/', path.Split('/').Select(System.Uri.EscapeDataString))}";
        using var content = new ByteArrayContent(File.ReadAllBytes(localPath));
        using var request = new HttpRequestMessage(HttpMethod.Put, url) { Content = content };
        Execute(request, $"PUT {artifactPath}");
    }

    public void EndRun(string runId, string status, long endTime) =>
        Send(HttpMethod.Post, "runs/update", new JsonObject { ["run_id"] = runId, ["status"] = status, ["end_time"] = endTime });

    public void Dispose() => _http.Dispose();

    private string ExperimentId(string name)
    {
        try
        {
            var found = Send(HttpMethod.Get, $"experiments/get-by-name?experiment_name={System.Uri.EscapeDataString(name)}", null);
            return Text(found, "experiments/get-by-name", ["experiment", "experiment_id"]);
        }
        catch (MlflowRejectedException e) when (e.Message.Contains("RESOURCE_DOES_NOT_EXIST", StringComparison.Ordinal))
        {
            var created = Send(HttpMethod.Post, "experiments/create", new JsonObject { ["name"] = name });
            return Text(created, "experiments/create", ["experiment_id"]);
        }
    }

    private static JsonArray Pairs(IReadOnlyList<MlflowTag> pairs) =>
        new(pairs.Select(p => (JsonNode)new JsonObject { ["key"] = p.Key, ["value"] = p.Value }).ToArray());

    private JsonNode? Send(HttpMethod method, string endpoint, JsonObject? body)
    {
        using var request = new HttpRequestMessage(method, $"{Uri}/api/2.0/mlflow/{endpoint}");
        if (body is not null) request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        string what = $"{method} {endpoint.Split('?')[0]}";
        string text = Execute(request, what);
        try
        {
            return text.Length == 0 ? null : JsonNode.Parse(text);
        }
        catch (JsonException)
        {
            throw NotMlflow(what, text);
        }
    }

    /// <summary>A string field of a reply, found by its path; a reply without it is not from an MLflow server.</summary>
    private string Text(JsonNode? reply, string what, string[] path, bool optional = false)
    {
        JsonNode? node = reply;
        foreach (var name in path) node = node is JsonObject o ? o[name] : null;
        if (node is JsonValue value && value.TryGetValue(out string? text)) return text;
        if (optional && node is null) return "";
        throw NotMlflow(what, reply?.ToJsonString() ?? "");
    }

    private MlflowUnavailableException NotMlflow(string what, string reply)
    {
        string start = new string(reply.Take(60).Select(c => char.IsControl(c) ? ' ' : c).ToArray()).Trim();
        return new MlflowUnavailableException($"{what}: the reply is not MLflow's (it starts '{start}'); is {Uri} an MLflow tracking server?");
    }

    private string Execute(HttpRequestMessage request, string what)
    {
        HttpResponseMessage response;
        string text;
        try
        {
            response = _http.Send(request, HttpCompletionOption.ResponseHeadersRead);
            text = ReadBounded(response);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException or InvalidOperationException)
        {
            string reason = e is TaskCanceledException ? "no answer within the timeout"
                : e.InnerException is { } inner ? $"{e.Message} {inner.Message}" : e.Message;
            throw new MlflowUnavailableException($"{what}: {reason}", e);
        }
        using (response)
        {
            if (response.IsSuccessStatusCode) return text;
            string detail = $"{what}: HTTP {(int)response.StatusCode} {ErrorCode(text)}".TrimEnd();
            if (response.StatusCode == HttpStatusCode.TooManyRequests || (int)response.StatusCode >= 500) throw new MlflowUnavailableException(detail);
            throw new MlflowRejectedException(detail);
        }
    }

    /// <summary>The reply's body as text, refusing one larger than <see cref="MaxReplyBytes"/> (a stream that never ends, say).</summary>
    private static string ReadBounded(HttpResponseMessage response)
    {
        if (response.Content.Headers.ContentLength > MaxReplyBytes)
            throw new IOException($"the reply is larger than {MaxReplyBytes >> 20} MB; is it an MLflow tracking server?");
        using var stream = response.Content.ReadAsStream();
        var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = stream.Read(chunk)) > 0)
        {
            if (buffer.Length + read > MaxReplyBytes)
            {
                response.Dispose();
                throw new IOException($"the reply is larger than {MaxReplyBytes >> 20} MB; is it an MLflow tracking server?");
            }
            buffer.Write(chunk, 0, read);
        }
        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    /// <summary>MLflow's error body: {"error_code": "...", "message": "..."}.</summary>
    private static string ErrorCode(string body)
    {
        try
        {
            var node = JsonNode.Parse(body) as JsonObject;
            return $"{node?["error_code"]?.GetValue<string>()} {node?["message"]?.GetValue<string>()}".Trim();
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            return new string(body.Take(200).Select(c => char.IsControl(c) ? ' ' : c).ToArray());
        }
    }
}
