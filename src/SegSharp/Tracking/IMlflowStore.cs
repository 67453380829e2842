namespace SegSharp.Tracking;

/// <summary>Where MLflow data goes: a tracking server's REST API or MLflow's file-store layout.</summary>
public interface IMlflowStore : IDisposable
{
    /// <summary>"http://host:5000" or "file:///abs/mlruns", for messages.</summary>
    string Uri { get; }

    /// <summary>Creates the experiment (by name) and the run, or reopens <paramref name="runId"/> (status RUNNING).</summary>
    /// <returns>The run's id and its artifact location.</returns>
    (string RunId, string ArtifactUri) StartRun(string experiment, string? runId, string runName, IReadOnlyList<MlflowTag> tags, long startTime);

    /// <summary>Within the API's limits per call (the caller splits).</summary>
    void LogBatch(string runId, IReadOnlyList<MlflowMetric> metrics, IReadOnlyList<MlflowTag> parameters, IReadOnlyList<MlflowTag> tags);

    void UploadArtifact(string runId, string artifactUri, string localPath, string artifactPath);

    /// <summary>FINISHED, FAILED or KILLED.</summary>
    void EndRun(string runId, string status, long endTime);
}
