namespace SegSharp.Training.Tracking;

/// <summary>A key and a value (params and tags).</summary>
public sealed record MlflowTag(string Key, string Value);

/// <summary>One metric value: MLflow's (key, value, timestamp in ms, step).</summary>
public sealed record MlflowMetric(string Key, double Value, long Timestamp, long Step);

/// <summary>
/// One thing to tell MLflow, in the order it happened: <c>start</c> (create or reopen the run), <c>batch</c> (metrics,
/// params, tags), <c>artifact</c> (a file of the run directory) or <c>end</c> (final status). Operations wait in the run
/// directory's outbox until the tracking store has them, so a server that is down loses nothing.
/// </summary>
public sealed record MlflowOperation
{
    public required string Kind { get; init; }

    public long Time { get; init; }

    public string? RunName { get; init; }

    public string? Status { get; init; }

    public IReadOnlyList<MlflowMetric> Metrics { get; init; } = Array.Empty<MlflowMetric>();

    public IReadOnlyList<MlflowTag> Params { get; init; } = Array.Empty<MlflowTag>();

    public IReadOnlyList<MlflowTag> Tags { get; init; } = Array.Empty<MlflowTag>();

    /// <summary>For <c>artifact</c>: the file, and its path under the run's artifacts.</summary>
    public string? LocalPath { get; init; }

    public string? ArtifactPath { get; init; }
}

/// <summary>A tracking store that is down, slow or failing (network error, timeout, 429, 5xx): try again later.</summary>
public sealed class MlflowUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>A request the tracking store refused (4xx other than 429): sending it again would not help.</summary>
public sealed class MlflowRejectedException(string message) : Exception(message);
