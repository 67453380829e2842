using System.Diagnostics;
using SegSharp.Configuration;
using SegSharp.Data;
using SegSharp.Training.Hooks;
using static TorchSharp.torch;

namespace SegSharp.Training;

/// <summary>
/// Trains and validates one config into its run directory. Restart-safe: it resumes from the newest valid
/// checkpoint in the run directory and, because data order, augmentation and learning rate are functions of
/// (seed, epoch, batch, step) and every other piece of state is checkpointed, ends with the same weights as an
/// uninterrupted run. Every step runs in a dispose scope, so native memory stays flat.
/// </summary>
/// <remarks>
/// The loop below is the algorithm; everything else is a hook, called at each point in this order:
/// <see cref="ValidationHook"/> (metrics, best value, early stop), <see cref="CheckpointHook"/> (last.ckpt, best.ckpt),
/// <see cref="RunFilesHook"/> (config, environment, dataset, metrics, summary), <see cref="TensorBoardHook"/>,
/// <see cref="ProgressHook"/> (the observer), then the caller's hooks in the order given. docs/architecture.md has
/// the table of which hook acts at which point.
/// </remarks>
public sealed class Trainer
{
    private readonly SegSharpConfig _config;
    private readonly ITrainingObserver _observer;
    private readonly ISegmentationDataset? _dataset;
    private readonly IReadOnlyList<ITrainingHook> _extraHooks;
    private readonly bool _allowDataChange;
    private readonly Runtime.ICollective? _collective;

    /// <param name="dataset">Use this dataset instead of the one the config names (for library callers and tests).</param>
    /// <param name="hooks">More hooks, called after the built-in ones (e.g. experiment tracking).</param>
    /// <param name="allowDataChange">Resume even when the dataset's content changed since the run started (recorded in warnings.txt).</param>
    /// <param name="collective">
    /// The processes training this model together (data-parallel, <c>mpirun -np N</c>); one process when null. Each
    /// process must construct its trainer with the same config and call <see cref="Run"/>; the caller's hooks run in
    /// every process (check <c>session.Collective.IsRoot</c> to act once).
    /// </param>
    public Trainer(SegSharpConfig config, ITrainingObserver observer, ISegmentationDataset? dataset = null, IEnumerable<ITrainingHook>? hooks = null,
        bool allowDataChange = false, Runtime.ICollective? collective = null)
    {
        _collective = collective;
        _config = config;
        _observer = observer;
        _dataset = dataset;
        _extraHooks = hooks?.ToList() ?? new List<ITrainingHook>();
        _allowDataChange = allowDataChange;
    }

    /// <param name="stop">Cancel to finish the current step, checkpoint and return (SIGINT/SIGTERM).</param>
    public TrainingResult Run(CancellationToken stop = default)
    {
        using var session = TrainingSession.Open(_config, _dataset, _observer, _allowDataChange, _collective);
        using var hooks = new TrainingHooks(BuiltInHooks(session.Collective).Concat(_extraHooks));
        try
        {
            if (session.State.Finished) return AlreadyFinished(session, hooks);
            hooks.RunStarted(session);
            session.Model.train();
            // One batch stream for the rest of the run, so the loader builds the next epoch's first batches while
            // this one validates and checkpoints.
            using var batches = session.TrainLoader.Epochs(session.State.Epoch, session.State.NextBatch, _config.Train.Epochs,
                session.BatchesPerEpoch, CancellationToken.None).GetEnumerator();
            bool stoppedEarly = false;
            for (int epoch = session.State.Epoch; epoch < _config.Train.Epochs && !stoppedEarly; epoch++)
            {
                hooks.EpochStarted(session, epoch);
                var (record, stopAgreed) = TrainEpoch(session, hooks, batches, epoch, stop);
                if (record is null) return Interrupt(session, hooks, atEpochEnd: false);
                var report = new EpochReport(epoch, record, lastScheduled: epoch == _config.Train.Epochs - 1);
                hooks.EpochTrained(session, report);
                stoppedEarly = report.StopEarly;
                session.State = session.State.ClosingEpoch(report.Record, finished: report.EndsRun);
                hooks.EpochCompleted(session, report);
                if (stopAgreed && !session.State.Finished) return Interrupt(session, hooks, atEpochEnd: true);
            }
            var result = session.Result(interrupted: false, stoppedEarly);
            hooks.RunFinished(session, result);
            return result;
        }
        finally
        {
            session.Run.Checkpoints.WaitForWrites();
        }
    }

    /// <summary>
    /// The steps of one epoch; the record is null when a stop request ended it early. Whether to stop is agreed by all
    /// processes after every step (a signal reaches them at slightly different times), so they stop after the same one.
    /// </summary>
    private static (EpochRecord? Record, bool Stop) TrainEpoch(TrainingSession session, TrainingHooks hooks, IEnumerator<HostBatch> stream, int epoch,
        CancellationToken stop)
    {
        int accumulate = session.Config.Train.Accumulate;
        var clock = Stopwatch.StartNew();
        double secondsBefore = session.State.EpochSeconds, lr = 0, accumulated = 0;
        long images = 0;
        bool stopAgreed = false;
        session.Optimizer.zero_grad();
        for (int position = session.State.NextBatch; position < session.BatchesPerEpoch; position++)
        {
            var batch = NextBatch(stream, epoch, position);
            accumulated += session.ForwardBackward(batch);
            images += batch.Count * session.Collective.Size;
            if ((position + 1) % accumulate != 0) continue;
            hooks.GradientsReady(session);
            lr = session.OptimizerStep();
            double loss = session.Parallel.MeanLoss(accumulated / accumulate);
            accumulated = 0;
            session.State = session.State.AfterStep(position + 1, loss, secondsBefore + clock.Elapsed.TotalSeconds);
            var step = new StepReport(epoch, (position + 1) / accumulate, session.StepsPerEpoch, loss, lr, images / Math.Max(1e-9, clock.Elapsed.TotalSeconds));
            hooks.StepCompleted(session, step);
            // After the step's hooks, so a stop requested by one of them (or by a signal meanwhile) ends this step.
            stopAgreed = session.Parallel.AnyStop(stop.IsCancellationRequested);
            if (stopAgreed && !step.LastOfEpoch) return (null, true);
        }
        return (session.State.EpochRecord(epoch, lr, session.BatchesPerEpoch * session.TrainLoader.BatchSize), stopAgreed);
    }

    /// <summary>Every process validates its share; only rank 0 writes files and reports progress.</summary>
    private IEnumerable<ITrainingHook> BuiltInHooks(Runtime.ICollective collective)
    {
        var parallel = collective.Size > 1 ? new ITrainingHook[] { new DataParallelHook() } : Array.Empty<ITrainingHook>();
        return collective.IsRoot
            ? parallel.Concat(new ITrainingHook[]
            {
                new ValidationHook(), new CheckpointHook(), new RunFilesHook(), new TensorBoardHook(), new ProgressHook(_observer),
            })
            : parallel.Append(new ValidationHook());
    }

    private static HostBatch NextBatch(IEnumerator<HostBatch> stream, int epoch, int position)
    {
        if (!stream.MoveNext()) throw new InvalidOperationException($"The batch stream ended early at epoch {epoch + 1}, batch {position}.");
        var batch = stream.Current;
        if (batch.Epoch != epoch || batch.Index != position)
            throw new InvalidOperationException($"The batch stream is out of step: expected epoch {epoch}, batch {position}; got {batch.Epoch}, " +
                $"{batch.Index}.");
        return batch;
    }

    private static TrainingResult Interrupt(TrainingSession session, TrainingHooks hooks, bool atEpochEnd)
    {
        hooks.Interrupted(session, atEpochEnd);
        return session.Result(interrupted: true, stoppedEarly: false);
    }

    /// <summary>A finished run started again: nothing to train; the finishing hooks re-create what a kill may have lost.</summary>
    private static TrainingResult AlreadyFinished(TrainingSession session, TrainingHooks hooks)
    {
        session.Report($"Run in {session.Run.Path} already finished; nothing to do. Use another output.dir to train again.");
        var state = session.State;
        bool stoppedEarly = state.Epoch < session.Config.Train.Epochs;
        var result = session.Result(interrupted: false, stoppedEarly);
        if (!File.Exists(session.Run.SummaryPath)) hooks.RunFinished(session, result);
        return result;
    }
}
