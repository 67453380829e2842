using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;

namespace SegSharp.Tests.Training;

/// <summary>
/// The real MLflow tracking server of ../shared/mlflow-server (MLflow 3.6's own Python code on Debian's packages, with
/// its own validation), started on a free loopback port with a store in a temp folder, and read back through MLflow's
/// REST API. It can be stopped and started again on the same port and store (an outage), and its file-store mode
/// serves a folder SegSharp wrote, so MLflow itself reads it. Tests fail, with the server's log, when it does not come up.
/// </summary>
public sealed class MlflowServer : IDisposable
{
    private static readonly string StartScript = Path.GetFullPath(Path.Combine(TestPaths.RepositoryRoot, "..", "shared", "mlflow-server", "start.sh"));
    private readonly string? _backend;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };
    private Process? _process;

    /// <param name="backend">A file store to serve (file:///abs/mlruns); a new SQLite store when null.</param>
    /// <param name="port">The loopback port; a free one when null.</param>
    public MlflowServer(string? backend = null, int? port = null)
    {
        _backend = backend;
        Store = TestPaths.TempFolder("mlflow-store");
        Port = port ?? FreePort();
        Start();
    }

    public int Port { get; }

    public string Store { get; }

    public string Uri => $"http://127.0.0.1:{Port}";

    public string Log => File.Exists(LogPath) ? File.ReadAllText(LogPath) : "";

    private string LogPath => Path.Combine(Store, "server.log");

    public static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    /// <summary>Starts the server (setsid, so its whole process group can be stopped) and waits for GET /health.</summary>
    public void Start()
    {
        Assert.True(File.Exists(StartScript), $"{StartScript} is missing: the tracking tests run against that real MLflow server (../shared)");
        var info = new ProcessStartInfo("setsid") { UseShellExecute = false, RedirectStandardOutput = false, RedirectStandardError = false };
        info.ArgumentList.Add("bash");
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add("exec \"$0\" \"$1\" \"$2\" >>\"$3\" 2>&1");
        foreach (var a in new[] { StartScript, Port.ToString(System.Globalization.CultureInfo.InvariantCulture), Store, LogPath }) info.ArgumentList.Add(a);
        if (_backend is not null) info.Environment["BACKEND"] = _backend;
        _process = Process.Start(info)!;
        try
        {
            WaitForHealth();
        }
        catch
        {
            Stop();
            throw;
        }
    }

    private void WaitForHealth()
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (DateTime.UtcNow < deadline)
        {
            if (_process!.HasExited) Assert.Fail($"the MLflow server exited ({_process.ExitCode}); is ./test.sh's package set installed?\n{Log}");
            try
            {
                if (_http.GetStringAsync($"{Uri}/health").Result.Trim() == "OK") return;
            }
            catch (AggregateException)
            {
            }
            Thread.Sleep(250);
        }
        Assert.Fail($"the MLflow server did not answer /health within 90 s:\n{Log}");
    }

    /// <summary>Stops the server's process group (SIGTERM, then SIGKILL) and waits until the port refuses connections.</summary>
    public void Stop()
    {
        if (_process is null) return;
        int group = _process.Id;    // setsid made the script's process the group leader
        Signal("TERM", group);
        if (!_process.WaitForExit(TimeSpan.FromSeconds(10))) Signal("KILL", group);
        _process.WaitForExit(TimeSpan.FromSeconds(10));
        Signal("KILL", group);      // uvicorn's worker, if it outlived its parent
        _process.Dispose();
        _process = null;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (DateTime.UtcNow < deadline && Answers()) Thread.Sleep(100);
    }

    public void Dispose()
    {
        Stop();
        _http.Dispose();
        try
        {
            Directory.Delete(Store, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>GET /api/2.0/mlflow/ENDPOINT, which must answer 200 with JSON.</summary>
    public JsonObject Get(string endpoint)
    {
        using var response = _http.GetAsync($"{Uri}/api/2.0/mlflow/{endpoint}").Result;
        string body = response.Content.ReadAsStringAsync().Result;
        Assert.True(response.IsSuccessStatusCode, $"GET {endpoint}: HTTP {(int)response.StatusCode} {body}");
        return (JsonObject)JsonNode.Parse(body)!;
    }

    /// <summary>The run as MLflow holds it: info, params, tags and the latest metrics.</summary>
    public MlflowRunView Run(string runId)
    {
        var run = Get($"runs/get?run_id={runId}")["run"]!;
        var data = run["data"]!;
        static Dictionary<string, string> Pairs(JsonNode? list) =>
            (list as JsonArray ?? new JsonArray()).ToDictionary(p => p!["key"]!.GetValue<string>(), p => p!["value"]!.GetValue<string>());
        return new MlflowRunView(run["info"]!.AsObject(), Pairs(data["params"]), Pairs(data["tags"]),
            (data["metrics"] as JsonArray ?? new JsonArray()).Select(m => m!["key"]!.GetValue<string>()).ToHashSet());
    }

    /// <summary>Every value of a metric, as (step, value), in step order.</summary>
    public List<(long Step, double Value)> History(string runId, string key) =>
        Get($"metrics/get-history?run_id={runId}&metric_key={System.Uri.EscapeDataString(key)}&max_results=10000")["metrics"] is JsonArray values
            ? values.Select(v => (v!["step"]!.GetValue<long>(), v["value"]!.GetValue<double>())).OrderBy(v => v.Item1).ToList()
            : new List<(long, double)>();

    /// <summary>Every artifact file of a run, by its path under the run's artifacts, with its bytes (through the server's proxy).</summary>
    public Dictionary<string, byte[]> Artifacts(string runId)
    {
        string root = Get($"runs/get?run_id={runId}")["run"]!["info"]!["artifact_uri"]!.GetValue<string>();
        Assert.StartsWith("mlflow-artifacts:/", root, StringComparison.Ordinal);
        var result = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        void Walk(string path)
        {
            var listing = Get($"artifacts/list?run_id={runId}" + (path.Length > 0 ? $"&path={System.Uri.EscapeDataString(path)}" : ""));
            foreach (var file in listing["files"] as JsonArray ?? new JsonArray())
            {
                string name = file!["path"]!.GetValue<string>();
                if (file["is_dir"]!.GetValue<bool>()) Walk(name);
                else result[name] = _http.GetByteArrayAsync($"{Uri}/api/2.0/mlflow-artifacts/artifacts/{root["mlflow-artifacts:/".Length..]}/{name}").Result;
            }
        }
        Walk("");
        return result;
    }

    /// <summary>The ids of the runs of an experiment, by name.</summary>
    public List<string> RunIds(string experiment)
    {
        var found = Get($"experiments/get-by-name?experiment_name={System.Uri.EscapeDataString(experiment)}");
        string id = found["experiment"]!["experiment_id"]!.GetValue<string>();
        using var content = new StringContent($"{{\"experiment_ids\": [\"{id}\"], \"max_results\": 1000}}", Encoding.UTF8, "application/json");
        using var response = _http.PostAsync($"{Uri}/api/2.0/mlflow/runs/search", content).Result;
        var runs = JsonNode.Parse(response.Content.ReadAsStringAsync().Result)!["runs"] as JsonArray ?? new JsonArray();
        return runs.Select(r => r!["info"]!["run_id"]!.GetValue<string>()).ToList();
    }

    private bool Answers()
    {
        try
        {
            using var client = new TcpClient();
            client.Connect(IPAddress.Loopback, Port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static void Signal(string signal, int group)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { $"-{signal}", "--", $"-{group}" }, RedirectStandardError = true })!;
        kill.WaitForExit();
    }
}

/// <summary>A run as the MLflow server returns it.</summary>
public sealed record MlflowRunView(JsonObject Info, Dictionary<string, string> Params, Dictionary<string, string> Tags, HashSet<string> MetricKeys)
{
    public string Status => Info["status"]!.GetValue<string>();

    public long? EndTime => Info["end_time"]?.GetValue<long>();
}
