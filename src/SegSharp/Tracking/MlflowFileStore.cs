using System.Globalization;
using System.Text;
using SegSharp.Foundation;

namespace SegSharp.Tracking;

/// <summary>
/// MLflow's file-store layout (<c>mlflow ui --backend-store-uri file:./mlruns</c>): <c>ROOT/EXPERIMENT_ID/meta.yaml</c>,
/// <c>ROOT/EXPERIMENT_ID/RUN_ID/meta.yaml</c>, <c>metrics/KEY</c> (lines "timestamp value step"), <c>params/KEY</c>,
/// <c>tags/KEY</c> (the value as the whole file) and <c>artifacts/</c>. MLflow 3.7 and later default to a SQLite store and,
/// from 3.13, open a plain mlruns folder only with MLFLOW_ALLOW_FILE_STORE=true (or after <c>mlflow migrate-filestore</c>).
/// </summary>
public sealed class MlflowFileStore : IMlflowStore
{
    private static readonly Dictionary<string, int> Statuses = new(StringComparer.Ordinal)
    {
        ["RUNNING"] = 1, ["SCHEDULED"] = 2, ["FINISHED"] = 3, ["FAILED"] = 4, ["KILLED"] = 5,
    };

    private readonly string _root;

    /// <param name="uri">file:///abs/mlruns, file:relative/mlruns or file:./mlruns (relative to the working directory).</param>
    public MlflowFileStore(string uri)
    {
        string path = uri.StartsWith("file://", StringComparison.Ordinal) ? new Uri(uri).LocalPath : uri["file:".Length..];
        _root = Path.GetFullPath(path);
        Uri = new Uri(_root).AbsoluteUri;
    }

    public string Uri { get; }

    public (string RunId, string ArtifactUri) StartRun(string experiment, string? runId, string runName, IReadOnlyList<MlflowTag> tags, long startTime)
    {
        Directory.CreateDirectory(_root);
        if (!File.Exists(Path.Combine(_root, "0", "meta.yaml"))) WriteExperiment("0", "Default", startTime);
        string experimentId = FindExperiment(experiment) ?? CreateExperiment(experiment, startTime);
        if (runId is not null && FindRun(runId) is { } existing)
        {
            SetStatus(existing, "RUNNING", null);
            return (runId, new Uri(Path.Combine(existing, "artifacts")).AbsoluteUri);
        }
        runId = Guid.NewGuid().ToString("N");
        string run = Path.Combine(_root, experimentId, runId);
        foreach (var folder in new[] { "metrics", "params", "tags", "artifacts" }) Directory.CreateDirectory(Path.Combine(run, folder));
        var meta = new Dictionary<string, string>
        {
            ["artifact_uri"] = new Uri(Path.Combine(run, "artifacts")).AbsoluteUri, ["end_time"] = "null", ["entry_point_name"] = "''",
            ["experiment_id"] = Quote(experimentId), ["lifecycle_stage"] = "active", ["run_id"] = runId, ["run_name"] = Quote(runName),
            ["run_uuid"] = runId, ["source_name"] = "''", ["source_type"] = "4", ["source_version"] = "''",
            ["start_time"] = startTime.ToString(CultureInfo.InvariantCulture), ["status"] = "1", ["tags"] = "[]", ["user_id"] = Quote(Environment.UserName),
        };
        WriteMeta(Path.Combine(run, "meta.yaml"), meta);
        LogBatch(runId, Array.Empty<MlflowMetric>(), Array.Empty<MlflowTag>(), tags);
        return (runId, meta["artifact_uri"]);
    }

    public void LogBatch(string runId, IReadOnlyList<MlflowMetric> metrics, IReadOnlyList<MlflowTag> parameters, IReadOnlyList<MlflowTag> tags)
    {
        string run = FindRun(runId) ?? throw new MlflowRejectedException($"run {runId} is not in {_root}");
        foreach (var group in metrics.GroupBy(m => m.Key))
        {
            string file = Entry(run, "metrics", group.Key);
            File.AppendAllText(file, string.Concat(group.Select(m =>
                string.Create(CultureInfo.InvariantCulture, $"{m.Timestamp} {m.Value.ToString("R", CultureInfo.InvariantCulture)} {m.Step}\n"))));
        }
        foreach (var p in parameters)
        {
            string file = Entry(run, "params", p.Key);
            if (File.Exists(file) && File.ReadAllText(file) != p.Value)
                throw new MlflowRejectedException($"param {p.Key} already has another value (MLflow params cannot change)");
            AtomicFile.WriteAllText(file, p.Value);
        }
        foreach (var t in tags) AtomicFile.WriteAllText(Entry(run, "tags", t.Key), t.Value);
    }

    public void UploadArtifact(string runId, string artifactUri, string localPath, string artifactPath)
    {
        string run = FindRun(runId) ?? throw new MlflowRejectedException($"run {runId} is not in {_root}");
        string target = Path.Combine(run, "artifacts", artifactPath);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        AtomicFile.WriteAllBytes(target, File.ReadAllBytes(localPath));
    }

    public void EndRun(string runId, string status, long endTime)
    {
        string run = FindRun(runId) ?? throw new MlflowRejectedException($"run {runId} is not in {_root}");
        SetStatus(run, status, endTime);
    }

    public void Dispose() { }

    private string? FindExperiment(string name) =>
        Directory.EnumerateDirectories(_root).Select(Path.GetFileName).FirstOrDefault(id =>
            File.Exists(Path.Combine(_root, id!, "meta.yaml")) && ReadMeta(Path.Combine(_root, id!, "meta.yaml")).GetValueOrDefault("name") == Quote(name));

    /// <summary>A new experiment id as MLflow's file store makes them: a random 18-digit number.</summary>
    private string CreateExperiment(string name, long time)
    {
        string id = (100_000_000_000_000_000L + Random.Shared.NextInt64(899_999_999_999_999_999L)).ToString(CultureInfo.InvariantCulture);
        WriteExperiment(id, name, time);
        return id;
    }

    private void WriteExperiment(string id, string name, long time)
    {
        string folder = Path.Combine(_root, id);
        Directory.CreateDirectory(folder);
        string t = time.ToString(CultureInfo.InvariantCulture);
        WriteMeta(Path.Combine(folder, "meta.yaml"), new Dictionary<string, string>
        {
            ["artifact_location"] = new Uri(folder).AbsoluteUri, ["creation_time"] = t, ["experiment_id"] = Quote(id),
            ["last_update_time"] = t, ["lifecycle_stage"] = "active", ["name"] = Quote(name),
        });
    }

    private string? FindRun(string runId) =>
        Directory.Exists(_root)
            ? Directory.EnumerateDirectories(_root).Select(e => Path.Combine(e, runId)).FirstOrDefault(r => File.Exists(Path.Combine(r, "meta.yaml")))
            : null;

    private static void SetStatus(string run, string status, long? endTime)
    {
        string path = Path.Combine(run, "meta.yaml");
        var meta = ReadMeta(path);
        meta["status"] = Statuses[status].ToString(CultureInfo.InvariantCulture);
        meta["end_time"] = endTime?.ToString(CultureInfo.InvariantCulture) ?? "null";
        WriteMeta(path, meta);
    }

    /// <summary>KEY may hold '/', which MLflow stores as sub-folders.</summary>
    private static string Entry(string run, string kind, string key)
    {
        string file = Path.Combine(run, kind, key.Replace('/', Path.DirectorySeparatorChar));
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        return file;
    }

    /// <summary>A YAML single-quoted string (MLflow writes ids and names quoted).</summary>
    private static string Quote(string text) => "'" + text.Replace("'", "''", StringComparison.Ordinal) + "'";

    private static Dictionary<string, string> ReadMeta(string path) =>
        File.ReadAllLines(path).Where(l => l.Contains(": ", StringComparison.Ordinal))
            .ToDictionary(l => l[..l.IndexOf(": ", StringComparison.Ordinal)], l => l[(l.IndexOf(": ", StringComparison.Ordinal) + 2)..]);

    private static void WriteMeta(string path, Dictionary<string, string> fields)
    {
        var text = new StringBuilder();
        foreach (var (key, value) in fields.OrderBy(f => f.Key, StringComparer.Ordinal)) text.Append(key).Append(": ").Append(value).Append('\n');
        AtomicFile.WriteAllText(path, text.ToString());
    }
}
