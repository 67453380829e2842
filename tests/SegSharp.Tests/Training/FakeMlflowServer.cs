using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace SegSharp.Tests.Training;

/// <summary>
/// An MLflow tracking server in the test process (HttpListener on 127.0.0.1), written from MLflow's REST API 2.0
/// documentation: experiments/get-by-name, experiments/create, runs/create, runs/get, runs/log-batch (with its limits:
/// 1000 metrics, 100 params, 100 tags, 1000 items per request; params immutable), runs/update, and the artifact proxy's
/// PUT /api/2.0/mlflow-artifacts/artifacts/PATH. Every request is checked against the documented fields and types; a
/// violation is recorded (<see cref="Violations"/>) and answered 400, as MLflow answers. It can be told to fail.
/// </summary>
public sealed class FakeMlflowServer : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Thread _loop;
    private readonly object _gate = new();
    private readonly Dictionary<string, string> _experiments = new(StringComparer.Ordinal);
    private static readonly string[] Statuses = { "RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED" };

    public FakeMlflowServer()
    {
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            Port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
        }
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        _loop = new Thread(Serve) { IsBackground = true };
        _loop.Start();
    }

    public int Port { get; }

    public string Uri => $"http://127.0.0.1:{Port}";

    /// <summary>Answer every request with this status (e.g. 503) while set.</summary>
    public int? FailWith { get; set; }

    /// <summary>Wait this long before answering.</summary>
    public TimeSpan Delay { get; set; }

    public ConcurrentQueue<string> Violations { get; } = new();

    /// <summary>The Authorization header of every request, in order (null where there was none).</summary>
    public ConcurrentQueue<string?> Authorizations { get; } = new();

    /// <summary>"METHOD endpoint" of every request answered successfully, in order.</summary>
    public ConcurrentQueue<string> Calls { get; } = new();

    public Dictionary<string, Run> Runs { get; } = new(StringComparer.Ordinal);

    public IReadOnlyDictionary<string, string> Experiments
    {
        get
        {
            lock (_gate) return new Dictionary<string, string>(_experiments);
        }
    }

    public sealed class Run
    {
        public required string Id { get; init; }
        public required string ExperimentId { get; init; }
        public required string Name { get; init; }
        public List<string> Statuses { get; } = new() { "RUNNING" };
        public long? EndTime { get; set; }
        public Dictionary<string, string> Params { get; } = new(StringComparer.Ordinal);
        public Dictionary<string, string> Tags { get; } = new(StringComparer.Ordinal);
        public List<(string Key, double Value, long Timestamp, long Step)> Metrics { get; } = new();
        public Dictionary<string, byte[]> Artifacts { get; } = new(StringComparer.Ordinal);
        public int LogBatchCalls { get; set; }
    }

    public void Dispose()
    {
        if (!_listener.IsListening) return;
        _listener.Stop();
        _listener.Close();
    }

    private void Serve()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = _listener.GetContext();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }
            ThreadPool.QueueUserWorkItem(_ => Answer(context));
        }
    }

    private void Answer(HttpListenerContext context)
    {
        var request = context.Request;
        string path = request.Url!.AbsolutePath;
        Authorizations.Enqueue(request.Headers["Authorization"]);
        byte[] body;
        using (var memory = new MemoryStream())
        {
            request.InputStream.CopyTo(memory);
            body = memory.ToArray();
        }
        if (Delay > TimeSpan.Zero) Thread.Sleep(Delay);
        (int Status, JsonObject Body) reply;
        if (FailWith is int failure) reply = (failure, Error("TEMPORARILY_UNAVAILABLE", "told to fail"));
        else
        {
            try
            {
                lock (_gate) reply = Route(request.HttpMethod, path, request.QueryString, body);
            }
            catch (Violation v)
            {
                Violations.Enqueue($"{request.HttpMethod} {path}: {v.Message}");
                reply = (400, Error("INVALID_PARAMETER_VALUE", v.Message));
            }
            if (reply.Status == 200) Calls.Enqueue($"{request.HttpMethod} {path.Replace("/api/2.0/", "", StringComparison.Ordinal)}");
        }
        byte[] bytes = Encoding.UTF8.GetBytes(reply.Body.ToJsonString());
        try
        {
            context.Response.StatusCode = reply.Status;
            context.Response.ContentType = "application/json";
            context.Response.OutputStream.Write(bytes);
            context.Response.Close();
        }
        catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
        {
        }
    }

    private (int, JsonObject) Route(string method, string path, System.Collections.Specialized.NameValueCollection query, byte[] body)
    {
        const string artifacts = "/api/2.0/mlflow-artifacts/artifacts/";
        if (method == "PUT" && path.StartsWith(artifacts, StringComparison.Ordinal))
        {
            var parts = System.Uri.UnescapeDataString(path[artifacts.Length..]).Split('/', 4);
            if (parts.Length < 4 || parts[2] != "artifacts") throw new Violation($"artifact path '{path}' is not EXPERIMENT/RUN/artifacts/PATH");
            FindRun(parts[1]).Artifacts[parts[3]] = body;
            return (200, new JsonObject());
        }
        switch (method, path)
        {
            case ("GET", "/api/2.0/mlflow/experiments/get-by-name"):
            {
                string name = query["experiment_name"] ?? throw new Violation("experiment_name is required");
                return _experiments.TryGetValue(name, out var id)
                    ? (200, new JsonObject { ["experiment"] = new JsonObject { ["experiment_id"] = id, ["name"] = name, ["lifecycle_stage"] = "active" } })
                    : (404, Error("RESOURCE_DOES_NOT_EXIST", $"Could not find experiment with name '{name}'"));
            }
            case ("POST", "/api/2.0/mlflow/experiments/create"):
            {
                var json = Parse(body, "name");
                string name = String(json, "name", required: true)!;
                if (_experiments.ContainsKey(name)) return (400, Error("RESOURCE_ALREADY_EXISTS", $"Experiment '{name}' already exists."));
                string id = (_experiments.Count + 1).ToString(System.Globalization.CultureInfo.InvariantCulture);
                _experiments[name] = id;
                return (200, new JsonObject { ["experiment_id"] = id });
            }
            case ("POST", "/api/2.0/mlflow/runs/create"):
            {
                var json = Parse(body, "experiment_id", "run_name", "start_time", "tags", "user_id");
                string experiment = String(json, "experiment_id", required: true)!;
                if (!_experiments.ContainsValue(experiment)) throw new Violation($"experiment_id {experiment} does not exist");
                Long(json, "start_time");
                var run = new Run { Id = Guid.NewGuid().ToString("N"), ExperimentId = experiment, Name = String(json, "run_name") ?? "" };
                foreach (var (key, value) in Pairs(json, "tags", 100)) run.Tags[key] = value;
                Runs[run.Id] = run;
                return (200, new JsonObject
                {
                    ["run"] = new JsonObject
                    {
                        ["info"] = new JsonObject
                        {
                            ["run_id"] = run.Id, ["run_uuid"] = run.Id, ["experiment_id"] = experiment, ["run_name"] = run.Name, ["status"] = "RUNNING",
                            ["artifact_uri"] = $"mlflow-artifacts:/{experiment}/{run.Id}/artifacts", ["lifecycle_stage"] = "active",
                        },
                    },
                });
            }
            case ("GET", "/api/2.0/mlflow/runs/get"):
            {
                var run = FindRun(query["run_id"] ?? throw new Violation("run_id is required"));
                return (200, new JsonObject
                {
                    ["run"] = new JsonObject
                    {
                        ["info"] = new JsonObject
                        {
                            ["run_id"] = run.Id, ["experiment_id"] = run.ExperimentId, ["status"] = run.Statuses[^1],
                            ["artifact_uri"] = $"mlflow-artifacts:/{run.ExperimentId}/{run.Id}/artifacts",
                        },
                    },
                });
            }
            case ("POST", "/api/2.0/mlflow/runs/log-batch"):
            {
                var json = Parse(body, "run_id", "metrics", "params", "tags");
                var run = FindRun(String(json, "run_id", required: true)!);
                var metrics = json["metrics"] as JsonArray ?? new JsonArray();
                var parameters = Pairs(json, "params", 100);
                var tags = Pairs(json, "tags", 100);
                if (metrics.Count > 1000) throw new Violation($"A batch logging request can contain at most 1000 metrics. Got {metrics.Count} metrics.");
                if (metrics.Count + parameters.Count + tags.Count > 1000) throw new Violation("more than 1000 metrics, params and tags in one request");
                foreach (var (key, value) in parameters)
                {
                    if (run.Params.TryGetValue(key, out var old) && old != value) throw new Violation($"param {key} changed from '{old}' to '{value}'");
                    if (value.Length > 6000) throw new Violation($"param {key} is longer than 6000 characters");
                    run.Params[key] = value;
                }
                foreach (var (key, value) in tags) run.Tags[key] = value;
                foreach (var node in metrics)
                {
                    var m = node as JsonObject ?? throw new Violation("a metric is not an object");
                    foreach (var field in m.Select(f => f.Key))
                        if (field is not ("key" or "value" or "timestamp" or "step")) throw new Violation($"unknown metric field '{field}'");
                    string key = String(m, "key", required: true)!;
                    if (m["value"] is not JsonValue v || !v.TryGetValue(out double value)) throw new Violation($"metric {key} has no numeric value");
                    long timestamp = Long(m, "timestamp") ?? throw new Violation($"metric {key} has no timestamp");
                    run.Metrics.Add((key, value, timestamp, Long(m, "step") ?? 0));
                }
                run.LogBatchCalls++;
                return (200, new JsonObject());
            }
            case ("POST", "/api/2.0/mlflow/runs/update"):
            {
                var json = Parse(body, "run_id", "run_uuid", "status", "end_time", "run_name");
                var run = FindRun(String(json, "run_id", required: true)!);
                string? status = String(json, "status");
                if (status is not null && !Statuses.Contains(status)) throw new Violation($"status '{status}' is not one of {string.Join(", ", Statuses)}");
                if (status is not null) run.Statuses.Add(status);
                run.EndTime = Long(json, "end_time") ?? run.EndTime;
                return (200, new JsonObject { ["run_info"] = new JsonObject { ["run_id"] = run.Id, ["status"] = run.Statuses[^1] } });
            }
            default:
                throw new Violation($"no such endpoint: {method} {path}");
        }
    }

    private Run FindRun(string id) => Runs.TryGetValue(id, out var run) ? run : throw new Violation($"run {id} does not exist");

    private static JsonObject Parse(byte[] body, params string[] allowed)
    {
        JsonObject json;
        try
        {
            json = JsonNode.Parse(body) as JsonObject ?? throw new Violation("the body is not a JSON object");
        }
        catch (JsonException e)
        {
            throw new Violation($"the body is not JSON: {e.Message}");
        }
        foreach (var field in json.Select(f => f.Key))
            if (!allowed.Contains(field)) throw new Violation($"unknown field '{field}'");
        return json;
    }

    private static string? String(JsonObject json, string field, bool required = false)
    {
        if (json[field] is null) return required ? throw new Violation($"{field} is required") : null;
        return json[field] is JsonValue v && v.TryGetValue(out string? s) ? s : throw new Violation($"{field} must be a string");
    }

    private static long? Long(JsonObject json, string field)
    {
        if (json[field] is null) return null;
        return json[field] is JsonValue v && v.TryGetValue(out long l) ? l : throw new Violation($"{field} must be an integer (int64)");
    }

    private static List<(string Key, string Value)> Pairs(JsonObject json, string field, int limit)
    {
        if (json[field] is null) return new();
        var array = json[field] as JsonArray ?? throw new Violation($"{field} must be an array");
        if (array.Count > limit) throw new Violation($"A batch logging request can contain at most {limit} {field}. Got {array.Count} {field}.");
        return array.Select(n =>
        {
            var pair = n as JsonObject ?? throw new Violation($"an entry of {field} is not an object");
            return (String(pair, "key", required: true)!, String(pair, "value", required: true)!);
        }).ToList();
    }

    private static JsonObject Error(string code, string message) => new() { ["error_code"] = code, ["message"] = message };

    private sealed class Violation(string message) : Exception(message);
}
