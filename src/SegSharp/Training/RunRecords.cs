using SegSharp.Configuration;
using SegSharp.Runtime;

namespace SegSharp.Training;

/// <summary>summary.json: how a finished run ended. Written and read back by <see cref="RunDirectory"/>.</summary>
public sealed record RunSummary
{
    public bool Finished { get; init; } = true;
    public required bool StoppedEarly { get; init; }

    /// <summary>Epochs trained.</summary>
    public required int Epochs { get; init; }
    public required long Steps { get; init; }
    public required string WeightsSha256 { get; init; }
    public required BestMetric BestMetric { get; init; }

    /// <summary>1-based; 0 when no epoch validated.</summary>
    public required int BestEpoch { get; init; }

    /// <summary>The best value of <see cref="BestMetric"/> (the loss itself, not negated); null when no epoch validated.</summary>
    public double? BestValue { get; init; }

    /// <summary>The last epoch's metrics line.</summary>
    public EpochRecord? Final { get; init; }
    public required double TrainSeconds { get; init; }

    public static RunSummary Of(TrainingResult result, BestMetric bestMetric)
    {
        var state = result.State;
        return new RunSummary
        {
            StoppedEarly = result.StoppedEarly, Epochs = state.Epoch, Steps = state.GlobalStep, WeightsSha256 = result.WeightsHash,
            BestMetric = bestMetric, BestEpoch = state.BestEpoch + 1,
            BestValue = double.IsFinite(state.BestValue) ? Math.Abs(state.BestValue) : null,
            Final = state.History.LastOrDefault(), TrainSeconds = state.History.Sum(h => h.Seconds),
        };
    }
}

/// <summary>dataset.json: the data a run trained on: where it came from, its classes, its content hash and the split by name.</summary>
public sealed record DatasetManifest
{
    public required string Name { get; init; }

    /// <summary>The dataset description's path ("builtin:shapes" for the built-in set).</summary>
    public required string Source { get; init; }
    public required IReadOnlyList<string> Classes { get; init; }
    public required long IgnoreIndex { get; init; }
    public required string ContentSha256 { get; init; }
    public required IReadOnlyList<string> Train { get; init; }
    public required IReadOnlyList<string> Validation { get; init; }

    public static DatasetManifest Of(TrainingParts parts)
    {
        var (description, split) = (parts.Description, parts.Split);
        return new DatasetManifest
        {
            Name = description.Name, Source = description.SourcePath, Classes = parts.ClassNames, IgnoreIndex = description.IgnoreIndex,
            ContentSha256 = parts.DatasetSha256,
            Train = Enumerable.Range(0, split.Train.Count).Select(split.Train.NameOf).ToList(),
            Validation = Enumerable.Range(0, split.Validation.Count).Select(split.Validation.NameOf).ToList(),
        };
    }
}

/// <summary>environment.json: what the run ran on and what would make the same config give other weights elsewhere.</summary>
public sealed record EnvironmentInfo(RunEnvironment Environment, IReadOnlyList<string> Determinism)
{
    public static EnvironmentInfo Capture(int threads, ICollective collective)
    {
        var environment = RunEnvironment.Capture(threads, collective);
        return new EnvironmentInfo(environment, environment.DeterminismCaveats());
    }
}
