using System.Globalization;
using SegSharp.Training;
using Spectre.Console;

namespace SegSharp.Cli;

/// <summary>
/// Shows training progress: with a terminal, a live bar per epoch (loss, LR, images/s, ETA) and a summary line per
/// epoch; otherwise (pipes, CI, --quiet) plain lines only.
/// </summary>
public sealed class ConsoleTrainingObserver : ITrainingObserver
{
    private readonly ProgressContext? _progress;
    private ProgressTask? _task;
    private int _epochs;

    public ConsoleTrainingObserver(ProgressContext? progress) => _progress = progress;

    public void RunStarted(int epochs, int batchesPerEpoch, int startEpoch, int startBatch, string runDirectory)
    {
        _epochs = epochs;
        Line($"training: {epochs} epochs x {batchesPerEpoch} steps, run directory {runDirectory}");
    }

    public void EpochStarted(int epoch, int batches, int startBatch)
    {
        if (_progress is null) return;
        _task = _progress.AddTask($"epoch {epoch + 1}/{_epochs}", maxValue: batches);
        _task.Value = startBatch;
    }

    public void StepCompleted(int epoch, int batch, int batches, double loss, double lr, double imagesPerSecond)
    {
        if (_task is null) return;
        _task.Value = batch;
        _task.Description = string.Create(CultureInfo.InvariantCulture,
            $"epoch {epoch + 1}/{_epochs}  loss {loss:F4}  lr {lr:0.###e0}  {imagesPerSecond:F1} img/s");
    }

    public void EpochCompleted(EpochRecord r, bool improved)
    {
        if (_task is not null) _task.StopTask();
        string validation = r.MeanDice is double dice
            ? string.Create(CultureInfo.InvariantCulture,
                $"  val_loss {r.ValidationLoss:F4}  mIoU {r.MeanIoU:F4}  mDice {dice:F4}  acc {r.PixelAccuracy:F4}{(improved ? "  (best)" : "")}")
            : "";
        Line(string.Create(CultureInfo.InvariantCulture,
            $"epoch {r.Epoch}/{_epochs}  step {r.Step}  train_loss {r.TrainLoss:F4}  lr {r.LR:0.###e0}  {r.ImagesPerSecond:F1} img/s  " +
                $"{r.Seconds:F1}s{validation}"));
    }

    public void Message(string text) => Line(text);

    private void Line(string text)
    {
        if (_progress is not null) AnsiConsole.MarkupLine(Markup.Escape(text));
        else Console.WriteLine(text);
    }
}
