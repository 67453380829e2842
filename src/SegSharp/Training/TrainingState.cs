namespace SegSharp.Training;

/// <summary>
/// Everything besides weights and optimiser moments that a resumed run needs to continue exactly: where it is,
/// the counters and running sums, the best metric so far, history, and libtorch's generator state.
/// </summary>
public sealed record TrainingState
{
    public int Epoch { get; init; }

    /// <summary>The next batch of <see cref="Epoch"/> to train on (0 at an epoch boundary).</summary>
    public int NextBatch { get; init; }
    public long GlobalStep { get; init; }
    public double EpochLossSum { get; init; }
    public int EpochLossCount { get; init; }
    public double EpochSeconds { get; init; }
    public double BestValue { get; init; } = double.NegativeInfinity;
    public int BestEpoch { get; init; } = -1;
    public int ValidationsWithoutImprovement { get; init; }
    public bool Finished { get; init; }
    public string ConfigHash { get; init; } = "";

    /// <summary>The effective config YAML, so a checkpoint alone is enough to rebuild its model.</summary>
    public string ConfigYaml { get; init; } = "";
    public byte[] TorchRandomState { get; init; } = Array.Empty<byte>();
    public IReadOnlyList<EpochRecord> History { get; init; } = Array.Empty<EpochRecord>();
}
