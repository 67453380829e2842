using SegSharp.Configuration;
using SegSharp.Training;

namespace SegSharp.Tests.Training;

/// <summary>A tiny training config on the built-in shapes (seconds to run) and helpers to run it.</summary>
public static class TinyRun
{
    public static readonly string[] Overrides =
    {
        "model.depth=2", "model.width=4", "train.epochs=3", "train.iters_per_epoch=4", "train.batch_size=2",
        "train.val_batch_size=4", "train.threads=2", "train.seed=5", "data.workers=2", "schedule.warmup_iters=2",
        "transforms.train[3].brightness=0.2",
    };

    public static SegSharpConfig Config(string output, params string[] extra) =>
        SegSharpConfig.Load(null, Overrides.Concat(new[] { $"output.dir={output}" }).Concat(extra).ToList());

    public static TrainingResult Train(string output, RecordingHook? hook = null, CancellationToken stop = default, params string[] extra) =>
        Trainer(Config(output, extra), new[] { hook ?? new RecordingHook() }).Run(stop);

    /// <summary>A trainer as the training workflow builds one: the process policy (threads, deterministic algorithms) applied first.</summary>
    public static Trainer Trainer(SegSharpConfig config, IEnumerable<ITrainingHook>? hooks = null, SegSharp.Data.ISegmentationDataset? dataset = null,
        bool allowDataChange = false, SegSharp.Runtime.ICollective? collective = null)
    {
        SegSharp.Runtime.ProcessPolicy.Apply(config.Train.Threads, collective);
        return new Trainer(config, hooks, dataset, allowDataChange, collective);
    }
}

/// <summary>Records what the trainer reports; can cancel after a given step.</summary>
public sealed class RecordingHook : ITrainingHook
{
    private readonly CancellationTokenSource? _cancel;
    private readonly long _cancelAtStep;
    private readonly Action<long>? _onStep;
    private long _steps;

    /// <param name="onStep">Called on the training thread after each step with the step's number (1-based).</param>
    public RecordingHook(CancellationTokenSource? cancel = null, long cancelAtStep = -1, Action<long>? onStep = null)
    {
        _cancel = cancel;
        _cancelAtStep = cancelAtStep;
        _onStep = onStep;
    }

    public List<string> Messages { get; } = new();
    public List<EpochRecord> Epochs { get; } = new();

    public void StepCompleted(ITrainingView run, StepReport step)
    {
        if (++_steps == _cancelAtStep) _cancel?.Cancel();
        _onStep?.Invoke(_steps);
    }

    public void EpochCompleted(ITrainingView run, EpochOutcome epoch) => Epochs.Add(epoch.Record);

    /// <summary>Messages may come from background threads (the MLflow sender).</summary>
    public void Message(string text)
    {
        lock (Messages) Messages.Add(text);
    }
}
