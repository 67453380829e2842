namespace SegSharp.Configuration;

/// <summary>
/// Experiment tracking. <c>tracking.mlflow.uri</c> turns MLflow on: <c>http(s)://host:port</c> for a tracking server,
/// <c>file:./mlruns</c> for MLflow's file-store layout. MLflow's environment variables fill what the config leaves empty,
/// and carry the credentials, which never enter a config file: the command line resolves them
/// (<see cref="WithEnvironment"/>); the library reads no environment variable.
/// </summary>
public sealed record TrackingConfig
{
    /// <summary>Empty: no tracking (the command line fills it from MLFLOW_TRACKING_URI).</summary>
    public required string MlflowUri { get; init; }

    /// <summary>Empty: "segsharp" (the command line fills it from MLFLOW_EXPERIMENT_NAME).</summary>
    public required string MlflowExperiment { get; init; }

    /// <summary>Empty: the run directory's name.</summary>
    public required string MlflowRunName { get; init; }

    /// <summary>At the end of a run, how long to wait for unsent data before leaving it in the run directory.</summary>
    public required int MlflowFlushSeconds { get; init; }

    /// <summary>A bearer token for the server (MLFLOW_TRACKING_TOKEN); never read from or written to YAML.</summary>
    public string MlflowToken { get; init; } = "";

    /// <summary>Basic authentication (MLFLOW_TRACKING_USERNAME, MLFLOW_TRACKING_PASSWORD), used when there is no token.</summary>
    public string MlflowUsername { get; init; } = "";

    public string MlflowPassword { get; init; } = "";

    /// <summary>The experiment runs go to: <see cref="MlflowExperiment"/>, or "segsharp".</summary>
    public string ExperimentOrDefault => MlflowExperiment.Length > 0 ? MlflowExperiment : "segsharp";

    /// <summary>
    /// This config with MLflow's environment variables where the config is empty, as MLflow's own clients read them:
    /// MLFLOW_TRACKING_URI, MLFLOW_EXPERIMENT_NAME, and the credentials MLFLOW_TRACKING_TOKEN, MLFLOW_TRACKING_USERNAME and
    /// MLFLOW_TRACKING_PASSWORD.
    /// </summary>
    /// <param name="variable">Reads one variable (<c>Environment.GetEnvironmentVariable</c>, or a dictionary in a test).</param>
    public TrackingConfig WithEnvironment(Func<string, string?> variable)
    {
        string Or(string value, string name) => value.Length > 0 ? value : variable(name) ?? "";
        return this with
        {
            MlflowUri = Or(MlflowUri, "MLFLOW_TRACKING_URI"), MlflowExperiment = Or(MlflowExperiment, "MLFLOW_EXPERIMENT_NAME"),
            MlflowToken = Or(MlflowToken, "MLFLOW_TRACKING_TOKEN"), MlflowUsername = Or(MlflowUsername, "MLFLOW_TRACKING_USERNAME"),
            MlflowPassword = Or(MlflowPassword, "MLFLOW_TRACKING_PASSWORD"),
        };
    }

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
