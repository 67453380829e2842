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

    public static TrainingResult Train(string output, ITrainingObserver? observer = null, CancellationToken stop = default, params string[] extra) =>
        new Trainer(Config(output, extra), observer ?? new RecordingObserver()).Run(stop);
}

/// <summary>Records what the trainer reports; can cancel after a given step.</summary>
public sealed class RecordingObserver : ITrainingObserver
{
    private readonly CancellationTokenSource? _cancel;
    private readonly long _cancelAtStep;
    private readonly Action<long>? _onStep;
    private long _steps;

    /// <param name="onStep">Called on the training thread after each step with the step's number (1-based).</param>
    public RecordingObserver(CancellationTokenSource? cancel = null, long cancelAtStep = -1, Action<long>? onStep = null)
    {
        _cancel = cancel;
        _cancelAtStep = cancelAtStep;
        _onStep = onStep;
    }

    public List<string> Messages { get; } = new();
    public List<EpochRecord> Epochs { get; } = new();

    public void RunStarted(int epochs, int batchesPerEpoch, int startEpoch, int startBatch, string runDirectory) { }

    public void EpochStarted(int epoch, int batches, int startBatch) { }

    public void StepCompleted(int epoch, int batch, int batches, double loss, double lr, double imagesPerSecond)
    {
        if (++_steps == _cancelAtStep) _cancel?.Cancel();
        _onStep?.Invoke(_steps);
    }

    public void EpochCompleted(EpochRecord record, bool improved) => Epochs.Add(record);

    /// <summary>Messages may come from background threads (the MLflow sender).</summary>
    public void Message(string text)
    {
        lock (Messages) Messages.Add(text);
    }
}
