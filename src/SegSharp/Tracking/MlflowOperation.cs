namespace SegSharp.Tracking;

/// <summary>A key and a value (params and tags).</summary>
public sealed record MlflowTag(string Key, string Value);

/// <summary>One metric value: MLflow's (key, value, timestamp in ms, step).</summary>
public sealed record MlflowMetric(string Key, double Value, long Timestamp, long Step);

/// <summary>What an <see cref="MlflowOperation"/> does; written to the outbox as its lower-case name.</summary>
public enum MlflowOperationKind
{
    /// <summary>Create the run, or reopen it (status RUNNING).</summary>
    Start,

    /// <summary>Metrics, params and tags.</summary>
    Batch,

    /// <summary>A file of the run directory.</summary>
    Artifact,

    /// <summary>The final status.</summary>
    End,
}

/// <summary>
/// One thing to tell MLflow, in the order it happened (<see cref="MlflowOperationKind"/>). Operations wait in the run
/// directory's outbox until the tracking store has them, so a server that is down loses nothing.
/// </summary>
public sealed record MlflowOperation
{
    public required MlflowOperationKind Kind { get; init; }

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
