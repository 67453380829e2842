using System.Diagnostics;
using SegSharp.Configuration;
using SegSharp.Data;
using SegSharp.Runtime;
using SegSharp.Training.Hooks;

namespace SegSharp.Training;

/// <summary>
/// Trains and validates one config into its run directory. Restart-safe: it resumes from the newest valid
/// checkpoint in the run directory and, because data order, augmentation and learning rate are functions of
/// (seed, epoch, batch, step) and every other piece of state is checkpointed, ends with the same weights as an
/// uninterrupted run. Every step runs in a dispose scope, so native memory stays flat.
/// </summary>
/// <remarks>
/// The trainer owns the algorithm: steps, validation, the best value, early stopping and when checkpoints are written.
/// Hooks observe it through a read-only view, called at each point in this order: <see cref="RunFilesHook"/> (config,
/// environment, dataset, metrics, summary), <see cref="TensorBoardHook"/>, then the caller's hooks in the order given
/// (a console's progress, experiment tracking). Process-wide settings (threads, deterministic algorithms) are the
/// caller's: apply <see cref="ProcessPolicy"/> first.
/// </remarks>
/// <param name="hooks">Hooks called after the built-in ones; they also receive the run's messages.</param>
/// <param name="dataset">Use this dataset instead of the one the config names (for library callers and tests).</param>
/// <param name="allowDataChange">Resume even when the dataset's content changed since the run started (recorded in warnings.txt).</param>
/// <param name="collective">
/// The processes training this model together (data-parallel, <c>mpirun -np N</c>); one process when null. Each process must
/// construct its trainer with the same config and call <see cref="Run"/>; the caller's hooks run in every process (rank 0
/// alone writes files: check <c>run.Parts.Collective.IsRoot</c> to act once).
/// </param>
public sealed class Trainer(SegSharpConfig config, IEnumerable<ITrainingHook>? hooks = null, ISegmentationDataset? dataset = null,
    bool allowDataChange = false, ICollective? collective = null)
{
    private readonly IReadOnlyList<ITrainingHook> _extraHooks = hooks?.ToList() ?? new List<ITrainingHook>();
    private readonly ICollective _collective = collective ?? SingleProcess.Instance;
    private long _savedStep = -1;

    /// <param name="stop">Cancel to finish the current step, checkpoint and return (SIGINT/SIGTERM).</param>
    public TrainingResult Run(CancellationToken stop = default)
    {
        _savedStep = -1;
        using var hooks = new TrainingHooks(BuiltInHooks().Concat(_extraHooks));
        void Report(string text)
        {
            if (_collective.IsRoot) hooks.Message(text);
        }
        using var parts = TrainingParts.Build(config, dataset, _collective, Report);
        var session = new TrainingSession(parts, ResumePoint.Find(parts, allowDataChange, Report), Report);
        try
        {
            if (session.ResumedFrom is not null) hooks.CheckpointRestored(session.State.HookEntries);
            if (session.State.Finished) return AlreadyFinished(session, hooks);
            hooks.RunStarted(session);
            parts.Model.train();
            // One batch stream for the rest of the run, so the loader builds the next epoch's first batches while
            // this one validates and checkpoints.
            using var batches = parts.TrainLoader.Epochs(session.State.Epoch, session.State.NextBatch, config.Train.Epochs,
                parts.BatchesPerEpoch, CancellationToken.None).GetEnumerator();
            bool stoppedEarly = false;
            for (int epoch = session.State.Epoch; epoch < config.Train.Epochs && !stoppedEarly; epoch++)
            {
                hooks.EpochStarted(session, epoch);
                var (record, stopAgreed) = TrainEpoch(session, hooks, batches, epoch, stop);
                if (record is null) return Interrupt(session, hooks, atEpochEnd: false);
                var outcome = CloseEpoch(session, hooks, epoch, record);
                stoppedEarly = outcome.StopEarly;
                hooks.EpochCompleted(session, outcome);
                if (stopAgreed && !session.State.Finished) return Interrupt(session, hooks, atEpochEnd: true);
            }
            var result = session.Result(interrupted: false, stoppedEarly);
            hooks.RunFinished(session, result);
            return result;
        }
        finally
        {
            parts.Run.Checkpoints.WaitForWrites();
        }
    }

    /// <summary>
    /// The steps of one epoch; the record is null when a stop request ended it early. Whether to stop is agreed by all
    /// processes after every step (a signal reaches them at slightly different times), so they stop after the same one.
    /// </summary>
    private (EpochRecord? Record, bool Stop) TrainEpoch(TrainingSession session, TrainingHooks hooks, IEnumerator<HostBatch> stream, int epoch,
        CancellationToken stop)
    {
        var parts = session.Parts;
        int accumulate = config.Train.Accumulate, every = config.Train.CheckpointEvery;
        var clock = Stopwatch.StartNew();
        double secondsBefore = session.State.EpochSeconds, lr = 0, accumulated = 0;
        long images = 0;
        bool stopAgreed = false;
        parts.Optimizer.zero_grad();
        for (int position = session.State.NextBatch; position < parts.BatchesPerEpoch; position++)
        {
            var batch = NextBatch(stream, epoch, position);
            accumulated += session.ForwardBackward(batch);
            images += batch.Count * parts.Collective.Size;
            if ((position + 1) % accumulate != 0) continue;
            lr = session.OptimizerStep();
            double loss = parts.Parallel.MeanLoss(accumulated / accumulate);
            accumulated = 0;
            session.Advance(s => s.AfterStep(position + 1, loss, secondsBefore + clock.Elapsed.TotalSeconds));
            var step = new StepReport(epoch, (position + 1) / accumulate, parts.StepsPerEpoch, loss, lr, images / Math.Max(1e-9, clock.Elapsed.TotalSeconds));
            if (every > 0 && session.State.GlobalStep % every == 0 && !step.LastOfEpoch) SaveCheckpoint(session, hooks);
            hooks.StepCompleted(session, step);
            // After the step's hooks, so a stop requested by one of them (or by a signal meanwhile) ends this step.
            stopAgreed = parts.Parallel.AnyStop(stop.IsCancellationRequested);
            if (stopAgreed && !step.LastOfEpoch) return (null, true);
        }
        return (session.State.EpochRecord(epoch, lr, parts.BatchesPerEpoch * parts.TrainLoader.BatchSize), stopAgreed);
    }

    /// <summary>
    /// Validates when due, records the epoch and writes its checkpoints: best.ckpt first when the epoch improved, then
    /// last.ckpt. last.ckpt's state names this epoch as the best, so it may exist only once best.ckpt holds it: a failure in
    /// between (a full disk) leaves the earlier last.ckpt, the epoch is trained again on restart and both files agree.
    /// </summary>
    private EpochOutcome CloseEpoch(TrainingSession session, TrainingHooks hooks, int epoch, EpochRecord record)
    {
        var (outcome, judged) = EpochJudge.Judge(session.Parts, session.State, epoch, record);
        session.Advance(_ => judged.ClosingEpoch(outcome.Record, finished: outcome.EndsRun));
        if (outcome.Improved) session.SaveBest(hooks.CheckpointEntries());
        SaveCheckpoint(session, hooks);
        // Each epoch starts from what the last one gave back (Runtime/HeldMemory): without it the ISBI pipeline's peak
        // settled 0.25 GB higher and rose at every validation.
        Runtime.HeldMemory.Release();
        return outcome;
    }

    /// <summary>last.ckpt, never the same step twice in a row (so previous.ckpt always holds an older complete checkpoint).</summary>
    private void SaveCheckpoint(TrainingSession session, TrainingHooks hooks)
    {
        if (session.State.GlobalStep == _savedStep && session.State.NextBatch != 0) return;
        session.SaveCheckpoint(hooks.CheckpointEntries());
        _savedStep = session.State.GlobalStep;
    }

    /// <summary>Rank 0 alone writes the run's files.</summary>
    private IEnumerable<ITrainingHook> BuiltInHooks() =>
        _collective.IsRoot ? new ITrainingHook[] { new RunFilesHook(), new TensorBoardHook() } : Array.Empty<ITrainingHook>();

    private static HostBatch NextBatch(IEnumerator<HostBatch> stream, int epoch, int position)
    {
        if (!stream.MoveNext()) throw new InvalidOperationException($"The batch stream ended early at epoch {epoch + 1}, batch {position}.");
        var batch = stream.Current;
        if (batch.Epoch != epoch || batch.Index != position)
            throw new InvalidOperationException($"The batch stream is out of step: expected epoch {epoch}, batch {position}; got {batch.Epoch}, " +
                $"{batch.Index}.");
        return batch;
    }

    private TrainingResult Interrupt(TrainingSession session, TrainingHooks hooks, bool atEpochEnd)
    {
        if (!atEpochEnd) SaveCheckpoint(session, hooks);
        hooks.Interrupted(session, atEpochEnd);
        return session.Result(interrupted: true, stoppedEarly: false);
    }

    /// <summary>A finished run started again: nothing to train; the finishing hooks re-create what a kill may have lost.</summary>
    private TrainingResult AlreadyFinished(TrainingSession session, TrainingHooks hooks)
    {
        session.Report($"Run in {session.Parts.Run.Path} already finished; nothing to do. Use another output.dir to train again.");
        bool stoppedEarly = session.State.Epoch < config.Train.Epochs;
        var result = session.Result(interrupted: false, stoppedEarly);
        if (!File.Exists(session.Parts.Run.SummaryPath)) hooks.RunFinished(session, result);
        return result;
    }
}
