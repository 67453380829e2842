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

    /// <summary>
    /// What hooks asked the checkpoint to keep (<see cref="ITrainingHook.SavingCheckpoint"/>), e.g. <c>mlflow.run_id</c>, so a
    /// model file names the MLflow run it was tracked in. (Older checkpoints kept that id as <c>tracking_run_id</c>, now ignored:
    /// the run folder's mlflow.json holds it too.)
    /// </summary>
    public IReadOnlyDictionary<string, string> HookEntries { get; init; } = new Dictionary<string, string>();

    /// <summary>Processes that trained the run (mpirun -np N); a resume must use as many.</summary>
    public int WorldSize { get; init; } = 1;

    /// <summary>SHA-256 of the dataset's content when the run started (empty in checkpoints from before this was kept).</summary>
    public string DatasetSha256 { get; init; } = "";

    /// <summary>The effective config YAML, so a checkpoint alone is enough to rebuild its model.</summary>
    public string ConfigYaml { get; init; } = "";
    public byte[] TorchRandomState { get; init; } = Array.Empty<byte>();
    public IReadOnlyList<EpochRecord> History { get; init; } = Array.Empty<EpochRecord>();

    /// <summary>The state after one more optimiser step whose batches end before batch <paramref name="nextBatch"/>.</summary>
    public TrainingState AfterStep(int nextBatch, double loss, double epochSeconds) => this with
    {
        GlobalStep = GlobalStep + 1, NextBatch = nextBatch,
        EpochLossSum = EpochLossSum + loss, EpochLossCount = EpochLossCount + 1, EpochSeconds = epochSeconds,
    };

    /// <summary>The metrics line of the epoch being trained, without validation figures.</summary>
    public EpochRecord EpochRecord(int epoch, double lr, long imagesPerEpoch) => new()
    {
        Epoch = epoch + 1, Step = GlobalStep, TrainLoss = EpochLossCount > 0 ? EpochLossSum / EpochLossCount : double.NaN,
        LR = lr, ImagesPerSecond = imagesPerEpoch / Math.Max(1e-9, EpochSeconds), Seconds = EpochSeconds,
    };

    /// <summary>The state at the start of the next epoch, with <paramref name="record"/> added to the history.</summary>
    public TrainingState ClosingEpoch(EpochRecord record, bool finished) => this with
    {
        Epoch = Epoch + 1, NextBatch = 0, EpochLossSum = 0, EpochLossCount = 0, EpochSeconds = 0,
        History = History.Append(record).ToList(), Finished = finished,
    };
}
