using System.Globalization;
using System.Text;
using System.Text.Json;
using SegSharp.Foundation;

namespace SegSharp.Training;

/// <summary>
/// The folder a run leaves behind: config.yaml, environment.json, dataset.json, metrics.jsonl and metrics.csv,
/// tensorboard/, checkpoints/, summary.json and, after evaluation, report/. Every file is written atomically. The file
/// names live here and nowhere else.
/// </summary>
public sealed class RunDirectory
{
    /// <summary>The run's files, by name.</summary>
    public const string ConfigFile = "config.yaml", EnvironmentFile = "environment.json", DatasetFile = "dataset.json",
        MetricsFile = "metrics.jsonl", MetricsTableFile = "metrics.csv", SummaryFile = "summary.json", WarningsFile = "warnings.txt",
        MlflowStateFile = "mlflow.json", MlflowOutboxFile = "mlflow-outbox.jsonl";

    /// <summary>Whether <paramref name="path"/> holds a run (its config.yaml).</summary>
    public static bool IsRun(string path) => System.IO.File.Exists(System.IO.Path.Combine(path, ConfigFile));

    /// <param name="create">Create the folder and checkpoints/ if missing (false to only read an existing run).</param>
    public RunDirectory(string path, bool create = true)
    {
        Path = System.IO.Path.GetFullPath(path);
        if (create) Directory.CreateDirectory(Path);
        Checkpoints = new CheckpointStore(System.IO.Path.Combine(Path, "checkpoints"), create);
    }

    public string Path { get; }
    public CheckpointStore Checkpoints { get; }
    public string ConfigPath => File(ConfigFile);
    public string SummaryPath => File(SummaryFile);
    public string TensorBoardDirectory => File("tensorboard");
    public string ReportDirectory => File("report");

    public string File(string name) => System.IO.Path.Combine(Path, name);

    /// <summary>What a run keeps as its record (experiment tracking's artifacts): the run's text files that exist and the whole
    /// report folder, as paths relative to the run; never the checkpoints.</summary>
    public IEnumerable<string> RecordFiles()
    {
        foreach (var name in new[] { ConfigFile, SummaryFile, MetricsFile, MetricsTableFile, EnvironmentFile, DatasetFile })
            yield return name;
        if (!Directory.Exists(ReportDirectory)) yield break;
        foreach (var file in Directory.EnumerateFiles(ReportDirectory, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            yield return System.IO.Path.GetRelativePath(Path, file);
    }

    /// <summary>
    /// Deletes <c>*.tmp</c> files a killed process left half-written (atomic writes publish by renaming them).
    /// Only the holder of the run lock may call this: another writer's temp file would vanish under it.
    /// </summary>
    public void RemoveTemporaryFiles()
    {
        foreach (var folder in new[] { Path, Checkpoints.Directory, ReportDirectory })
        {
            if (!Directory.Exists(folder)) continue;
            foreach (var temp in Directory.EnumerateFiles(folder, "*.tmp")) System.IO.File.Delete(temp);
        }
    }

    public void Write(RunSummary summary) => WriteJson(SummaryFile, summary);

    public void Write(DatasetManifest manifest) => WriteJson(DatasetFile, manifest);

    public void Write(EnvironmentInfo environment) => WriteJson(EnvironmentFile, environment);

    /// <summary>summary.json, or null while the run has not finished.</summary>
    public RunSummary? ReadSummary() => ReadJson<RunSummary>(SummaryFile);

    /// <summary>dataset.json, or null before the run started.</summary>
    public DatasetManifest? ReadDatasetManifest() => ReadJson<DatasetManifest>(DatasetFile);

    /// <summary>environment.json, or null before the run started.</summary>
    public EnvironmentInfo? ReadEnvironment() => ReadJson<EnvironmentInfo>(EnvironmentFile);

    private void WriteJson(string name, object value) =>
        AtomicFile.WriteAllText(File(name), JsonSerializer.Serialize(value, value.GetType(), JsonFormats.Pretty) + "\n");

    private T? ReadJson<T>(string name) where T : class
    {
        string path = File(name);
        if (!System.IO.File.Exists(path)) return null;
        try
        {
            return JsonSerializer.Deserialize<T>(System.IO.File.ReadAllText(path), JsonFormats.Pretty);
        }
        catch (JsonException e)
        {
            throw new SegSharpException($"'{path}' is not a readable {name} ({e.Message}); delete it and run 'segsharp train --resume {Path}' " +
                "to write it again.");
        }
    }

    public void WriteText(string name, string text) => AtomicFile.WriteAllText(File(name), text);

    /// <summary>Rewrites metrics.jsonl and metrics.csv from the full history, so a resumed run never duplicates a line.</summary>
    public void WriteMetrics(IReadOnlyList<EpochRecord> history, IReadOnlyList<string> classNames)
    {
        var jsonl = new StringBuilder();
        foreach (var record in history) jsonl.Append(JsonSerializer.Serialize(record, Checkpoint.Json)).Append('\n');
        AtomicFile.WriteAllText(File(MetricsFile), jsonl.ToString());
        var csv = new StringBuilder("epoch,step,train_loss,lr,images_per_s,seconds,val_loss,mean_iou,mean_dice,pixel_accuracy");
        foreach (var name in classNames) csv.Append(',').Append(Csv.Field($"iou_{name}")).Append(',').Append(Csv.Field($"dice_{name}"));
        csv.Append('\n');
        foreach (var r in history)
        {
            csv.Append(CultureInfo.InvariantCulture,
                $"{r.Epoch},{r.Step},{F(r.TrainLoss)},{F(r.LR)},{F(r.ImagesPerSecond)},{F(r.Seconds)}," +
                $"{F(r.ValidationLoss)},{F(r.MeanIoU)},{F(r.MeanDice)},{F(r.PixelAccuracy)}");
            for (int c = 0; c < classNames.Count; c++)
                csv.Append(',').Append(F(r.ClassIoU?[c])).Append(',').Append(F(r.ClassDice?[c]));
            csv.Append('\n');
        }
        AtomicFile.WriteAllText(File(MetricsTableFile), csv.ToString());
    }

    /// <summary>Reads metrics.jsonl back (for curves and reports).</summary>
    public IReadOnlyList<EpochRecord> ReadMetrics()
    {
        string path = File(MetricsFile);
        if (!System.IO.File.Exists(path)) return Array.Empty<EpochRecord>();
        return System.IO.File.ReadAllLines(path).Where(l => l.Length > 0)
            .Select(l => JsonSerializer.Deserialize<EpochRecord>(l, Checkpoint.Json)!).ToList();
    }

    private static string F(double? value) => value is double v ? v.ToString("R", CultureInfo.InvariantCulture) : "";
}
