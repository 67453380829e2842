namespace SegSharp.Configuration;

/// <summary>
/// Experiment tracking. <c>tracking.mlflow.uri</c> (or MLFLOW_TRACKING_URI when the key is empty) turns MLflow on:
/// <c>http(s)://host:port</c> for a tracking server, <c>file:./mlruns</c> for MLflow's file-store layout.
/// </summary>
public sealed record TrackingConfig
{
    /// <summary>Empty: MLFLOW_TRACKING_URI, or no tracking when that is unset too.</summary>
    public required string MlflowUri { get; init; }

    /// <summary>Empty: MLFLOW_EXPERIMENT_NAME, or "segsharp".</summary>
    public required string MlflowExperiment { get; init; }

    /// <summary>Empty: the run directory's name.</summary>
    public required string MlflowRunName { get; init; }

    /// <summary>At the end of a run, how long to wait for unsent data before leaving it in the run directory.</summary>
    public required int MlflowFlushSeconds { get; init; }

    internal static TrackingConfig Read(ConfigSection s)
    {
        var mlflow = s.Section("mlflow");
        return new TrackingConfig
        {
            MlflowUri = mlflow.GetString("uri", ""),
            MlflowExperiment = mlflow.GetString("experiment", ""),
            MlflowRunName = mlflow.GetString("run_name", ""),
            MlflowFlushSeconds = mlflow.GetInt("flush_seconds", 30, 0, 3600),
        };
    }
}
