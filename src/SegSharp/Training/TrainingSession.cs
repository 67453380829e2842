using SegSharp.Configuration;
using SegSharp.Data;
using SegSharp.Losses;
using SegSharp.Models;
using SegSharp.Runtime;
using SegSharp.Transforms;
using static TorchSharp.torch;

namespace SegSharp.Training;

/// <summary>
/// Everything one training run works with, built once from the config: the run directory, data, loaders,
/// model, optimiser and loss, and the <see cref="State"/> that checkpoints carry. Restores the newest valid
/// checkpoint of the run directory when there is one. Hooks receive it; only the trainer advances the state.
/// </summary>
public sealed class TrainingSession : IDisposable
{
    private readonly ITrainingObserver _observer;
    private readonly RunLock? _lock;
    private readonly SynchronizedBatchNorm? _synchronizedNorm;

    private TrainingSession(SegSharpConfig config, ISegmentationDataset dataset, ITrainingObserver observer, ICollective collective)
    {
        Config = config;
        _observer = observer;
        Collective = collective;
        var train = config.Train;
        if (train.BatchSize % collective.Size != 0)
            throw new SegSharpException($"train.batch_size {train.BatchSize} cannot be split evenly over {collective.Size} processes: every process " +
                $"trains on an equal share of each batch. Set train.batch_size to a multiple of {collective.Size} (for example " +
                $"{Math.Max(1, train.BatchSize / collective.Size) * collective.Size}), or start another number of processes.");
        Threads = TorchRuntime.ConfigureThreads(train.Threads == 0 && collective.Size > 1 ? CoresPerProcess() : train.Threads);
        DeterministicMode.TryEnable();
        Dataset = dataset;
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
        if (config.Model.EncoderWeights is { } encoder) LoadEncoder(((DeepLabV3Plus)Model).Encoder, config.Model, encoder);
        if (config.Model.InitWeights is { } initial) WeightFiles.LoadInto(Model, initial);
        Model.ComputeType = ComputePrecision.Of(train.Precision);
        Parallel = new DataParallel(Model, collective);
        if (train.SyncBatchNorm && collective.Size > 1) _synchronizedNorm = SynchronizedBatchNorm.Install(Model, collective);
        Optimizer = OptimizerFactory.Create(config.Optimizer, Model);
        Loss = WeightedLoss.Create(config.Loss, Description.IgnoreIndex);
        CheckBatchFits();
        Card = ModelCard.Describe(config, Description, Model.Stride, RunEnvironment.CurrentSegSharpVersion);
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
    public SegmentationModel Model { get; }
    public optim.Optimizer Optimizer { get; }
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

    /// <summary>Where the run continues from; only the trainer and validation (best metric) change it.</summary>
    public TrainingState State { get; set; } = null!;

    /// <summary>The checkpoint this process resumed from; null for a fresh run.</summary>
    public string? ResumedFrom { get; private set; }

    /// <summary>Builds the session and restores the newest valid checkpoint of the run directory, if any.</summary>
    /// <param name="allowDataChange">Resume even if the dataset's content changed since the run started (recorded in warnings.txt).</param>
    /// <param name="collective">The processes training together (data-parallel); one process when null.</param>
    public static TrainingSession Open(SegSharpConfig config, ISegmentationDataset? dataset, ITrainingObserver observer, bool allowDataChange = false,
        ICollective? collective = null)
    {
        TorchRuntime.EnsureLoaded();
        var session = new TrainingSession(config, dataset ?? DatasetFactory.Open(config.Data.Dataset), observer, collective ?? SingleProcess.Instance);
        try
        {
            session.ReportUnpaired();
            var restored = session.Restore();
            session.State = restored is null
                ? new TrainingState
                {
                    ConfigHash = config.TrainingHash, ConfigYaml = config.EffectiveYaml, DatasetSha256 = session.DatasetSha256,
                    WorldSize = session.Collective.Size,
                }
                : session.CheckDataset(restored, allowDataChange);
            session.Parallel.BroadcastWeights(session.Model);
            return session;
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>SHA-256 of the dataset's content (stems and file bytes), computed once.</summary>
    public string DatasetSha256 => _datasetSha256 ??= DatasetFingerprint.Compute(Dataset);

    private string? _datasetSha256;

    /// <summary>A line for the person running training (through the observer); rank 0 speaks for all processes.</summary>
    public void Report(string message)
    {
        if (Collective.IsRoot) _observer.Message(message);
    }

    /// <summary>Forward, loss and backward of one batch, gradients scaled for accumulation.</summary>
    /// <returns>The batch's loss before scaling.</returns>
    public double ForwardBackward(HostBatch batch)
    {
        using var guard = NativeScalarGuard.Enter();
        using var scope = NewDisposeScope();
        // The loss of the whole batch (its sums over every process's share), so N processes train the one-process model.
        var value = Loss.Compute(Model.forward(batch.ImageTensor()), batch.MaskTensor(), BatchReduction.Across(Collective));
        double lossValue = value.item<float>();
        if (!double.IsFinite(lossValue)) throw Diverged(batch.Index, lossValue);
        (value / Config.Train.Accumulate).backward();
        return lossValue;
    }

    /// <summary>ML.NET's ResNet-18 from its ONNX file (by graph structure); torchvision ResNets through their key map.</summary>
    private static void LoadEncoder(ResNetEncoder encoder, ModelConfig model, string weights)
    {
        if (model.Encoder == EncoderKind.MlnetResNet18)
            MlnetResNet18Weights.LoadInto(encoder, weights == ModelConfig.PretrainedWeights ? MlnetResNet18Weights.BundledPath : weights);
        else TorchvisionResNet.LoadInto(encoder, model.Encoder, weights);
    }

    /// <summary>Sets the scheduled learning rate, clips, steps the optimiser and clears gradients.</summary>
    /// <returns>The learning rate used.</returns>
    public double OptimizerStep()
    {
        double lr = LearningRateSchedule.At(Config.Schedule, Config.Optimizer.LR, State.GlobalStep, TotalSteps);
        OptimizerFactory.SetLearningRate(Optimizer, Config.Optimizer, lr);
        if (Config.Train.GradientClip > 0) nn.utils.clip_grad_norm_(Model.parameters(), Config.Train.GradientClip);
        Optimizer.step();
        Optimizer.zero_grad();
        return lr;
    }

    /// <summary>Writes <see cref="State"/>, weights, optimiser and libtorch's generator as the new last.ckpt (in the background).</summary>
    public void SaveCheckpoint()
    {
        using var guard = NativeScalarGuard.Enter();
        using var rng = random.get_rng_state();
        var state = State with { TorchRandomState = rng.bytes.ToArray() };
        Run.Checkpoints.SaveLastInBackground(Checkpoint.Serialize(Card, state, Model, Optimizer));
    }

    /// <summary>Writes the current weights as best.ckpt (no optimiser state).</summary>
    public void SaveBest()
    {
        using var guard = NativeScalarGuard.Enter();
        Run.Checkpoints.SaveBest(Checkpoint.Serialize(Card, State, Model, null));
    }

    /// <summary>How the run stands now, with the SHA-256 of the current weights.</summary>
    public TrainingResult Result(bool interrupted, bool stoppedEarly) =>
        new(Run, State, Checkpoint.WeightsHash(Model), interrupted, stoppedEarly);

    public void Dispose()
    {
        _synchronizedNorm?.Dispose();
        Optimizer?.Dispose();
        Model?.Dispose();
        _lock?.Dispose();
    }

    /// <summary>
    /// Rank 0 finds the newest valid checkpoint and sends its bytes to the others, so every process resumes from the
    /// same one even when only rank 0 can see the run directory.
    /// </summary>
    private TrainingState? Restore()
    {
        string? path = null;
        byte[]? bytes = null;
        CheckpointContents? found = null;
        using var guard = NativeScalarGuard.Enter();
        if (Collective.IsRoot && Run.Checkpoints.Any)
        {
            (path, bytes, found) = Run.Checkpoints.LoadNewestValid(Report)
                ?? throw new SegSharpException($"Run directory '{Run.Path}' has checkpoints, but none passes its checksum. Move them away to start over.");
        }
        if (Collective.Size > 1)
        {
            bytes = Collective.Broadcast(bytes ?? Array.Empty<byte>());
            if (!Collective.IsRoot && bytes.Length > 0) found = Checkpoint.Parse(bytes);
        }
        if (found is null) return null;
        path ??= Run.Checkpoints.LastPath;
        CheckSameTraining(found.State);
        if (found.State.WorldSize != Collective.Size)
            throw new SegSharpException($"Run directory '{Run.Path}' was trained by {found.State.WorldSize} process(es) and is being resumed by " +
                $"{Collective.Size}: the gradient sums would round differently, so the run would not repeat. Resume it with " +
                $"{(found.State.WorldSize == 1 ? "a single process (no mpirun)" : $"'mpirun -np {found.State.WorldSize}'")}, " +
                "or train into another output.dir.");
        Checkpoint.LoadModel(Model, found.Model);
        Checkpoint.LoadOptimizer(Optimizer, found.Optimizer);
        if (found.State.TorchRandomState.Length > 0)
        {
            using var rng = tensor(found.State.TorchRandomState, dtype: ScalarType.Byte);
            random.set_rng_state(rng);
        }
        ResumedFrom = path;
        Report($"Resuming from {path}: epoch {found.State.Epoch + 1}, step {found.State.GlobalStep}.");
        return found.State;
    }

    /// <summary>
    /// A resume must train the same thing: any changed key that can reach the weights is refused, named with its
    /// old and new value. More epochs count too: the learning-rate schedule spans all epochs from the first step,
    /// so a longer run is a different run.
    /// </summary>
    private void CheckSameTraining(TrainingState found)
    {
        if (found.ConfigYaml.Length == 0)
        {
            if (found.ConfigHash == Config.TrainingHash) return;
            throw new SegSharpException($"Run directory '{Run.Path}' holds a checkpoint of another config. Resume with its own config " +
                $"('segsharp train --resume {Run.Path}'), or choose another output.dir.");
        }
        var changed = ConfigDifference.WeightRelevant(ConfigDifference.WithCurrentDefaults(found.ConfigYaml), Config.EffectiveYaml);
        if (changed.Count == 0) return;
        string epochs = changed.Any(d => d.Key == "train.epochs")
            ? " A run cannot be extended: the learning-rate schedule and validation plan span all epochs from the first step."
            : "";
        throw new SegSharpException($"Run directory '{Run.Path}' holds a checkpoint trained with other settings: {ConfigDifference.Describe(changed)}." +
            $"{epochs} Resume with the run's own settings ('segsharp train --resume {Run.Path}' without changing those keys), " +
            "or train into another output.dir.");
    }

    /// <summary>
    /// Refuses a batch whose estimated training memory exceeds what the machine has (it would be killed without a
    /// message minutes in), and warns about a batch larger than the training split (it repeats images).
    /// </summary>
    private void CheckBatchFits()
    {
        var train = Config.Train;
        if (train.BatchSize > Split.Train.Count)
            Report($"warning: train.batch_size {train.BatchSize} is larger than the {Split.Train.Count} training images, so every batch " +
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

    /// <summary>
    /// libtorch threads per process when several share a machine: the cores this process may run on, divided among the
    /// machine's processes unless mpirun already bound each to its own cores.
    /// </summary>
    private static int CoresPerProcess()
    {
        int allowed = Environment.ProcessorCount;
        bool bound = CpuInfo.OnlineCores is int online && allowed < online;
        return Math.Max(1, bound ? allowed : allowed / OpenMpi.LocalSize);
    }

    private void ReportUnpaired()
    {
        if (Dataset is not FolderDataset { Unpaired.Count: > 0 } folder) return;
        Report($"Skipping {folder.Unpaired.Count} file(s) without a partner of the same stem (first: '{folder.Unpaired[0]}'); " +
            $"'segsharp data check {Description.SourcePath}' lists them.");
    }

    /// <summary>
    /// A resumed run must see the data it started with: images or masks replaced in between would silently mix two
    /// datasets into one model. Refused unless allowed; an allowed change is reported and recorded in warnings.txt.
    /// </summary>
    private TrainingState CheckDataset(TrainingState restored, bool allowDataChange)
    {
        if (restored.DatasetSha256.Length == 0 || restored.DatasetSha256 == DatasetSha256) return restored;
        string change = $"The dataset '{Description.Name}' changed since this run started (content SHA-256 {restored.DatasetSha256[..12]}… now " +
            $"{DatasetSha256[..12]}…)";
        if (!allowDataChange)
            throw new SegSharpException($"{change}; resuming would train one model on two datasets. Restore the data, train into another output.dir, " +
                "or pass --allow-data-change to continue anyway (recorded in the run's warnings.txt).");
        string line = $"{DateTime.UtcNow:yyyy-MM-dd HH:mm:ss}Z at step {restored.GlobalStep}: {change}; continued with --allow-data-change.";
        if (Collective.IsRoot) File.AppendAllText(Run.File(RunDirectory.WarningsFile), line + "\n");
        Report($"warning: {change}; continuing as --allow-data-change asks (recorded in warnings.txt).");
        return restored with { DatasetSha256 = DatasetSha256 };
    }

    private SegSharpException Diverged(int batch, double value)
    {
        Run.Checkpoints.WaitForWrites();
        string good = File.Exists(Run.Checkpoints.LastPath) ? $"The last good checkpoint is {Run.Checkpoints.LastPath}." : "No checkpoint was written yet.";
        return new SegSharpException($"Training diverged: the loss is {value} at epoch {State.Epoch + 1}, step {State.GlobalStep + 1} (batch {batch}). " +
            $"{good} Lower optimizer.lr or set train.grad_clip.");
    }
}
