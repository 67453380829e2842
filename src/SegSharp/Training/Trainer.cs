using System.Diagnostics;
using SegSharp.Configuration;
using SegSharp.Data;
using SegSharp.Evaluation;
using SegSharp.Losses;
using SegSharp.Models;
using SegSharp.Runtime;
using static TorchSharp.torch;

namespace SegSharp.Training;

/// <summary>
/// Trains and validates one config into its run directory. Restart-safe: it resumes from the newest valid
/// checkpoint in the run directory and, because data order, augmentation and learning rate are functions of
/// (seed, epoch, batch, step) and every other piece of state is checkpointed, ends with the same weights as an
/// uninterrupted run. Every step runs in a dispose scope, so native memory stays flat.
/// </summary>
public sealed class Trainer
{
    private readonly SegSharpConfig _config;
    private readonly ITrainingObserver _observer;

    private readonly ISegmentationDataset? _dataset;

    /// <param name="dataset">Use this dataset instead of the one the config names (for library callers and tests).</param>
    public Trainer(SegSharpConfig config, ITrainingObserver observer, ISegmentationDataset? dataset = null)
    {
        _config = config;
        _observer = observer;
        _dataset = dataset;
    }

    /// <param name="stop">Cancel to finish the current step, checkpoint and return (SIGINT/SIGTERM).</param>
    public TrainingResult Run(CancellationToken stop = default)
    {
        RunDirectory? directory = null;
        try
        {
            return RunTraining(stop, out directory);
        }
        finally
        {
            directory?.Checkpoints.WaitForWrites();
        }
    }

    private TrainingResult RunTraining(CancellationToken stop, out RunDirectory? directory)
    {
        var train = _config.Train;
        TorchRuntime.EnsureLoaded();
        int threads = TorchRuntime.ConfigureThreads(train.Threads);
        DeterministicMode.TryEnable();
        var run = new RunDirectory(_config.OutputDirectory);
        directory = run;

        var dataset = _dataset ?? DatasetFactory.Open(_config.Data.Dataset);
        var description = dataset.Description;
        var classNames = description.Classes.Select(c => c.Name).ToList();
        var split = DatasetSplit.Create(dataset);
        var trainLoader = new BatchLoader(split.Train, _config.TrainTransforms, train.BatchSize, train.Seed, shuffle: true,
            _config.Data.Workers, _config.Data.Prefetch, train.IterationsPerEpoch * train.Accumulate);
        var validationLoader = split.Validation.Count > 0
            ? new BatchLoader(split.Validation, _config.ValidationTransforms, train.ValidationBatchSize, train.Seed, shuffle: false, _config.Data.Workers, _config.Data.Prefetch)
            : null;
        int stepsPerEpoch = trainLoader.BatchesPerEpoch / train.Accumulate;
        if (stepsPerEpoch == 0)
            throw new SegSharpException($"train.accumulate ({train.Accumulate}) is larger than the batches in an epoch ({trainLoader.BatchesPerEpoch}); lower it or set train.iters_per_epoch.");
        long totalSteps = (long)stepsPerEpoch * train.Epochs;

        using var model = ModelFactory.Create(_config.Model, description.Channels, description.ClassCount, train.Seed);
        model.ComputeType = ComputePrecision.Of(train.Precision);
        using var optimizer = OptimizerFactory.Create(_config.Optimizer, model.parameters());
        var loss = WeightedLoss.Create(_config.Loss, description.IgnoreIndex);

        var state = Restore(run, model, optimizer);
        if (state is null)
        {
            state = new TrainingState { ConfigHash = _config.TrainingHash, ConfigYaml = _config.EffectiveYaml };
            run.WriteText("config.yaml", $"# SegSharp effective config (source: {_config.Source})\n{_config.EffectiveYaml}");
            var environment = RunEnvironment.Capture(threads);
            run.WriteJson("environment.json", new { environment, determinism = environment.DeterminismCaveats() });
            run.WriteJson("dataset.json", new
            {
                description.Name, source = description.SourcePath, classes = classNames, description.IgnoreIndex,
                content_sha256 = DatasetFingerprint.Compute(dataset),
                train = Enumerable.Range(0, split.Train.Count).Select(split.Train.NameOf),
                validation = Enumerable.Range(0, split.Validation.Count).Select(split.Validation.NameOf),
            });
        }
        if (state.Finished)
        {
            _observer.Message($"Run in {run.Path} already finished; nothing to do. Use another output.dir to train again.");
            return new TrainingResult(run, state, Checkpoint.WeightsHash(model), false, false);
        }

        using var board = new TensorBoardWriter(run.TensorBoardDirectory, Environment.ProcessId.ToString());
        _observer.RunStarted(train.Epochs, stepsPerEpoch, state.Epoch, state.NextBatch / train.Accumulate, run.Path);
        model.train();
        // One batch stream for the rest of the run, so the loader builds the next epoch's first batches while
        // this one validates and checkpoints.
        using var batches = trainLoader.Epochs(state.Epoch, state.NextBatch, train.Epochs, stepsPerEpoch * train.Accumulate, CancellationToken.None).GetEnumerator();
        for (int epoch = state.Epoch; epoch < train.Epochs; epoch++)
        {
            var outcome = TrainEpoch(epoch, state, trainLoader, batches, model, optimizer, loss, run, board, stepsPerEpoch, totalSteps, stop);
            state = outcome.State;
            if (outcome.Interrupted)
            {
                _observer.Message($"Interrupted: checkpoint saved at epoch {epoch + 1}, step {state.GlobalStep}. Resume with: segsharp train --resume {run.Path}");
                return new TrainingResult(run, state, Checkpoint.WeightsHash(model), true, false);
            }
            bool last = epoch == train.Epochs - 1;
            bool validate = validationLoader is not null && ((epoch + 1) % train.ValidateEvery == 0 || last);
            var record = outcome.Record;
            bool improved = false, stopEarly = false;
            if (validate)
            {
                var result = Validator.Run(model, validationLoader!, loss, classNames, description.IgnoreIndex);
                record = record with
                {
                    ValidationLoss = result.Loss, MeanIoU = result.Metrics.MeanIoU, MeanDice = result.Metrics.MeanDice,
                    PixelAccuracy = result.Metrics.PixelAccuracy,
                    ClassIoU = result.Metrics.PerClass.Select(c => c.IoU).ToList(), ClassDice = result.Metrics.PerClass.Select(c => c.Dice).ToList(),
                };
                double value = train.BestMetric == "val_loss" ? -(result.Loss ?? double.PositiveInfinity) : result.Metrics.Get(train.BestMetric);
                improved = value > state.BestValue;
                state = state with
                {
                    BestValue = improved ? value : state.BestValue, BestEpoch = improved ? epoch : state.BestEpoch,
                    ValidationsWithoutImprovement = improved ? 0 : state.ValidationsWithoutImprovement + 1,
                };
                stopEarly = train.EarlyStopPatience > 0 && state.ValidationsWithoutImprovement >= train.EarlyStopPatience;
                board.Scalar("val/loss", result.Loss ?? 0, state.GlobalStep);
                board.Scalar("val/mean_iou", result.Metrics.MeanIoU, state.GlobalStep);
                board.Scalar("val/mean_dice", result.Metrics.MeanDice, state.GlobalStep);
                board.Scalar("val/pixel_accuracy", result.Metrics.PixelAccuracy, state.GlobalStep);
                PredictionImages.Log(board, model, validationLoader!, description, state.GlobalStep);
            }
            state = state with
            {
                Epoch = epoch + 1, NextBatch = 0, EpochLossSum = 0, EpochLossCount = 0, EpochSeconds = 0,
                History = state.History.Append(record).ToList(), Finished = last || stopEarly,
            };
            SaveCheckpoint(run, state, model, optimizer);
            if (improved)
            {
                using var guard = NativeScalarGuard.Enter();
                run.Checkpoints.SaveBest(Checkpoint.Serialize(state, model, null));
            }
            run.WriteMetrics(state.History, classNames);
            _observer.EpochCompleted(record, improved);
            if (stop.IsCancellationRequested && !state.Finished)
            {
                _observer.Message($"Interrupted after epoch {epoch + 1}: checkpoint saved. Resume with: segsharp train --resume {run.Path}");
                return new TrainingResult(run, state, Checkpoint.WeightsHash(model), true, false);
            }
            if (stopEarly)
            {
                _observer.Message($"Early stop: {train.BestMetric} did not improve for {train.EarlyStopPatience} validations (best at epoch {state.BestEpoch + 1}).");
                return Finish(run, state, model, stoppedEarly: true);
            }
        }
        return Finish(run, state, model, stoppedEarly: false);
    }

    private sealed record EpochOutcome(TrainingState State, EpochRecord Record, bool Interrupted);

    private EpochOutcome TrainEpoch(int epoch, TrainingState state, BatchLoader loader, IEnumerator<HostBatch> stream, SegmentationModel model, optim.Optimizer optimizer,
        ISegmentationLoss loss, RunDirectory run, TensorBoardWriter board, int stepsPerEpoch, long totalSteps, CancellationToken stop)
    {
        var train = _config.Train;
        int batches = stepsPerEpoch * train.Accumulate;
        int startBatch = state.NextBatch;
        _observer.EpochStarted(epoch, stepsPerEpoch, startBatch / train.Accumulate);
        var clock = Stopwatch.StartNew();
        double secondsBefore = state.EpochSeconds;
        long images = 0;
        double lr = 0, accumulated = 0;
        optimizer.zero_grad();
        for (int position = startBatch; position < batches; position++)
        {
            if (!stream.MoveNext()) throw new InvalidOperationException($"The batch stream ended early at epoch {epoch + 1}, batch {position}.");
            var batch = stream.Current;
            if (batch.Epoch != epoch || batch.Index != position)
                throw new InvalidOperationException($"The batch stream is out of step: expected epoch {epoch}, batch {position}; got {batch.Epoch}, {batch.Index}.");
            using var guard = NativeScalarGuard.Enter();
            using (var scope = NewDisposeScope())
            {
                var input = batch.ImageTensor();
                var target = batch.MaskTensor();
                var value = loss.Compute(model.forward(input), target);
                double lossValue = value.item<float>();
                if (!double.IsFinite(lossValue)) throw Diverged(run, epoch, state.GlobalStep, batch.Index, lossValue);
                (value / train.Accumulate).backward();
                accumulated += lossValue;
                images += batch.Count;
            }
            if ((batch.Index + 1) % train.Accumulate != 0) continue;
            lr = LearningRateSchedule.At(_config.Schedule, _config.Optimizer.LR, state.GlobalStep, totalSteps);
            OptimizerFactory.SetLearningRate(optimizer, lr);
            if (train.GradientClip > 0) nn.utils.clip_grad_norm_(model.parameters(), train.GradientClip);
            optimizer.step();
            optimizer.zero_grad();
            double stepLoss = accumulated / train.Accumulate;
            accumulated = 0;
            state = state with
            {
                GlobalStep = state.GlobalStep + 1, NextBatch = batch.Index + 1,
                EpochLossSum = state.EpochLossSum + stepLoss, EpochLossCount = state.EpochLossCount + 1,
                EpochSeconds = secondsBefore + clock.Elapsed.TotalSeconds,
            };
            double rate = images / Math.Max(1e-9, clock.Elapsed.TotalSeconds);
            board.Scalar("train/loss", stepLoss, state.GlobalStep);
            board.Scalar("train/lr", lr, state.GlobalStep);
            _observer.StepCompleted(epoch, (batch.Index + 1) / train.Accumulate, stepsPerEpoch, stepLoss, lr, rate);
            bool lastStep = batch.Index + 1 >= batches;
            if (stop.IsCancellationRequested && !lastStep)
            {
                SaveCheckpoint(run, state, model, optimizer);
                return new EpochOutcome(state, null!, true);
            }
            if (train.CheckpointEvery > 0 && state.GlobalStep % train.CheckpointEvery == 0 && !lastStep)
                SaveCheckpoint(run, state, model, optimizer);
        }
        double seconds = state.EpochSeconds;
        var record = new EpochRecord
        {
            Epoch = epoch + 1, Step = state.GlobalStep, TrainLoss = state.EpochLossCount > 0 ? state.EpochLossSum / state.EpochLossCount : double.NaN,
            LR = lr, ImagesPerSecond = batches * (double)loader.BatchSize / Math.Max(1e-9, seconds), Seconds = seconds,
        };
        return new EpochOutcome(state, record, false);
    }

    private TrainingState? Restore(RunDirectory run, SegmentationModel model, optim.Optimizer optimizer)
    {
        if (!run.Checkpoints.Any) return null;
        using var guard = NativeScalarGuard.Enter();
        var found = run.Checkpoints.LoadNewestValid(_observer.Message)
            ?? throw new SegSharpException($"Run directory '{run.Path}' has checkpoints, but none passes its checksum. Move them away to start over.");
        if (found.State.ConfigHash != _config.TrainingHash)
            throw new SegSharpException($"Run directory '{run.Path}' holds a checkpoint of a different config. Resume with 'segsharp train --resume {run.Path}', or choose another output.dir.");
        Checkpoint.LoadModel(model, found.Model);
        Checkpoint.LoadOptimizer(optimizer, found.Optimizer);
        if (found.State.TorchRandomState.Length > 0)
        {
            using var rng = tensor(found.State.TorchRandomState, dtype: ScalarType.Byte);
            random.set_rng_state(rng);
        }
        _observer.Message($"Resuming from {found.Path}: epoch {found.State.Epoch + 1}, step {found.State.GlobalStep}.");
        return found.State;
    }

    private static void SaveCheckpoint(RunDirectory run, TrainingState state, SegmentationModel model, optim.Optimizer optimizer)
    {
        using var guard = NativeScalarGuard.Enter();
        using var rng = random.get_rng_state();
        state = state with { TorchRandomState = rng.bytes.ToArray() };
        run.Checkpoints.SaveLastInBackground(Checkpoint.Serialize(state, model, optimizer));
    }

    private TrainingResult Finish(RunDirectory run, TrainingState state, SegmentationModel model, bool stoppedEarly)
    {
        string hash = Checkpoint.WeightsHash(model);
        var best = state.History.Where(h => h.MeanDice.HasValue).ToList();
        run.WriteJson("summary.json", new
        {
            finished = true, stopped_early = stoppedEarly, epochs = state.Epoch, steps = state.GlobalStep, weights_sha256 = hash,
            best_metric = _config.Train.BestMetric, best_epoch = state.BestEpoch + 1,
            best_value = double.IsFinite(state.BestValue) ? (double?)Math.Abs(state.BestValue) : null,
            final = state.History.LastOrDefault(), train_seconds = state.History.Sum(h => h.Seconds),
        });
        return new TrainingResult(run, state, hash, false, stoppedEarly);
    }

    private static SegSharpException Diverged(RunDirectory run, int epoch, long step, int batch, double value)
    {
        run.Checkpoints.WaitForWrites();
        string good = File.Exists(run.Checkpoints.LastPath) ? $"The last good checkpoint is {run.Checkpoints.LastPath}." : "No checkpoint was written yet.";
        return new SegSharpException($"Training diverged: the loss is {value} at epoch {epoch + 1}, step {step + 1} (batch {batch}). {good} Lower optimizer.lr or set train.grad_clip.");
    }
}
