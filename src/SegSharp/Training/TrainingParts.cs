using SegSharp.Configuration;
using SegSharp.Data;
using SegSharp.Losses;
using SegSharp.Models;
using SegSharp.Runtime;
using SegSharp.Transforms;

namespace SegSharp.Training;

/// <summary>
/// What one training run works with, built once from the config and never replaced: the run directory (locked), data,
/// split and loaders, model with its starting weights, optimiser, loss and model card. Where the run stands is not here
/// (<see cref="TrainingState"/>, held by the session); neither is process policy (<see cref="ProcessPolicy"/>).
/// </summary>
public sealed class TrainingParts : IDisposable
{
    private readonly RunLock? _lock;
    private readonly SynchronizedBatchNorm? _synchronizedNorm;
    private string? _datasetSha256;

    private TrainingParts(SegSharpConfig config, ISegmentationDataset dataset, ICollective collective, Action<string> report)
    {
        Config = config;
        Collective = collective;
        var train = config.Train;
        if (train.BatchSize % collective.Size != 0)
            throw new SegSharpException($"train.batch_size {train.BatchSize} cannot be split evenly over {collective.Size} processes: every process " +
                $"trains on an equal share of each batch. Set train.batch_size to a multiple of {collective.Size} (for example " +
                $"{Math.Max(1, train.BatchSize / collective.Size) * collective.Size}), or start another number of processes.");
        Threads = TorchRuntime.ConfigureThreads(0);
        Dataset = dataset;
        TransformPipeline.CheckChannels(config.TrainTransforms, "transforms.train", dataset.Description);
        TransformPipeline.CheckChannels(config.ValidationTransforms, "transforms.val", dataset.Description);
        Split = DatasetSplit.Create(dataset);
        TrainLoader = new BatchLoader(Split.Train, TransformPipeline.Create(config.TrainTransforms), train.BatchSize, train.Seed, shuffle: true,
            config.Data.Workers, config.Data.Prefetch, train.IterationsPerEpoch * train.Accumulate, collective.Rank, collective.Size,
            batchSizeKey: "train.batch_size (transforms.train)");
        ValidationLoader = Split.Validation.Count > 0
            ? new BatchLoader(Split.Validation, TransformPipeline.Create(config.ValidationTransforms), train.ValidationBatchSize, train.Seed,
                shuffle: false, config.Data.Workers, config.Data.Prefetch, batchSizeKey: "train.val_batch_size (transforms.val)")
            : null;
        StepsPerEpoch = TrainLoader.BatchesPerEpoch / train.Accumulate;
        if (StepsPerEpoch == 0)
            throw new SegSharpException($"train.accumulate ({train.Accumulate}) is larger than the batches in an epoch ({TrainLoader.BatchesPerEpoch}); " +
                $"lower it or set train.iters_per_epoch.");
        TotalSteps = (long)StepsPerEpoch * train.Epochs;
        // Only rank 0 touches the run directory; the others may run on machines that do not share it.
        Run = new RunDirectory(config.OutputDirectory, create: collective.IsRoot);
        if (collective.IsRoot)
        {
            _lock = RunLock.Acquire(Run.Path);
            Run.RemoveTemporaryFiles();
        }
        Model = ModelFactory.Create(config.Model, Description.Channels, Description.ClassCount, train.Seed);
        ModelFactory.LoadStartingWeights(Model, config.Model);
        Model.ComputeType = ComputePrecision.Of(train.Precision);
        Parallel = new DataParallel(Model, collective);
        if (train.SyncBatchNorm && collective.Size > 1) _synchronizedNorm = SynchronizedBatchNorm.Install(Model, collective);
        Optimizer = OptimizerFactory.Create(config.Optimizer, Model);
        Loss = WeightedLoss.Create(config.Loss, Description.IgnoreIndex, collective.Size, Description.Task);
        CheckBatchFits(report);
        Card = ModelCard.Describe(config, Description, Model.Stride, RunEnvironment.CurrentSegSharpVersion);
        ReportUnpaired(report);
        if (EncoderInput.Mismatch(config.Model, config.ValidationTransforms) is { } mismatch) report(mismatch);
    }

    public SegSharpConfig Config { get; }
    public RunDirectory Run { get; }
    public ISegmentationDataset Dataset { get; }
    public DatasetDescription Description => Dataset.Description;
    public IReadOnlyList<string> ClassNames => Description.Classes.Select(c => c.Name).ToList();
    public DatasetSplit Split { get; }
    public BatchLoader TrainLoader { get; }

    /// <summary>Null when the validation split is empty.</summary>
    public BatchLoader? ValidationLoader { get; }

    /// <summary>The network being trained. Hooks may run it (in eval mode, without gradients) but change nothing in it.</summary>
    public SegmentationModel Model { get; }
    public TorchSharp.torch.optim.Optimizer Optimizer { get; }
    public ISegmentationLoss Loss { get; }

    /// <summary>What every checkpoint of this run carries so the model predicts without the dataset.</summary>
    public ModelCard Card { get; }

    /// <summary>The processes training this model together; a job of one without mpirun.</summary>
    public ICollective Collective { get; }

    /// <summary>Gradient averaging and weight/buffer broadcasts between the processes (no-ops for one process).</summary>
    internal DataParallel Parallel { get; }

    /// <summary>libtorch intra-op threads in use.</summary>
    public int Threads { get; }
    public int StepsPerEpoch { get; }
    public long TotalSteps { get; }
    public int BatchesPerEpoch => StepsPerEpoch * Config.Train.Accumulate;

    /// <summary>SHA-256 of the dataset's content (stems and file bytes), computed once.</summary>
    public string DatasetSha256 => _datasetSha256 ??= DatasetFingerprint.Compute(Dataset);

    /// <summary>Builds the parts for <paramref name="config"/>; <paramref name="report"/> hears warnings meant for the person.</summary>
    /// <param name="dataset">Use this dataset instead of the one the config names.</param>
    public static TrainingParts Build(SegSharpConfig config, ISegmentationDataset? dataset, ICollective collective, Action<string> report)
    {
        TorchRuntime.EnsureLoaded();
        return new TrainingParts(config, dataset ?? DatasetFactory.Open(config.Data.Dataset), collective, report);
    }

    public void Dispose()
    {
        _synchronizedNorm?.Dispose();
        Optimizer?.Dispose();
        Model?.Dispose();
        _lock?.Dispose();
    }

    /// <summary>
    /// Refuses a batch whose estimated training memory exceeds what the machine has (it would be killed without a
    /// message minutes in), and warns about a batch larger than the training split (it repeats images).
    /// </summary>
    private void CheckBatchFits(Action<string> report)
    {
        var train = Config.Train;
        if (train.BatchSize > Split.Train.Count)
            report($"warning: train.batch_size {train.BatchSize} is larger than the {Split.Train.Count} training images, so every batch " +
                $"repeats images. Set train.batch_size to {Split.Train.Count} or less.");
        var sample = TransformPipeline.Create(Config.TrainTransforms).Apply(Split.Train.Load(0), SeededRandom.For(train.Seed, 0xA06, 0, 0));
        var (perImage, fixedBytes) = MemoryEstimate.Training(Model, sample.Height, sample.Width);
        double need = perImage * TrainLoader.LocalBatchSize + fixedBytes;
        if (MemoryInfo.AvailableBytes() is not long available || need <= 0.9 * available) return;
        long fits = Math.Max(0, (long)((0.9 * available - fixedBytes) / perImage));
        string share = Collective.Size > 1 ? $" ({TrainLoader.LocalBatchSize} per process)" : "";
        throw new SegSharpException(string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"train.batch_size {train.BatchSize}{share} at {sample.Width}x{sample.Height} needs about {need / (1 << 30):F1} GB to train " +
            $"(estimated from the model), " +
            $"but {available / (double)(1 << 30):F1} GB of memory are available. Lower train.batch_size (about {fits} fits) or the crop size."));
    }

    private void ReportUnpaired(Action<string> report)
    {
        if (Dataset is not FolderDataset { Unpaired.Count: > 0 } folder) return;
        report($"Skipping {folder.Unpaired.Count} file(s) without a partner of the same stem (first: '{folder.Unpaired[0]}'); " +
            $"'segsharp data check {Description.SourcePath}' lists them.");
    }
}
