using System.Globalization;
using SegSharp.Training;
using Spectre.Console;

namespace SegSharp.Cli;

/// <summary>
/// Shows training progress: with a terminal, a live bar per epoch (loss, LR, images/s, ETA) and a summary line per
/// epoch; otherwise (pipes, CI, --quiet) plain lines only, and under mpirun (whose output forwarding cannot redraw a
/// bar) also a plain progress line at most every <c>progressEvery</c>. It is a training hook like any other, so the console
/// hears the run in the trainer's own vocabulary.
/// </summary>
public sealed class ConsoleTrainingHook : ITrainingHook
{
    private readonly ProgressContext? _progress;
    private ProgressTask? _task;
    private readonly TimeSpan? _progressEvery;
    private readonly System.Diagnostics.Stopwatch _sinceProgressLine = System.Diagnostics.Stopwatch.StartNew();
    private readonly System.Diagnostics.Stopwatch _epochClock = new();
    private int _epochs, _epochStartBatch;

    /// <param name="progressEvery">Without a live bar, print a progress line at most this often (null: epoch lines only).</param>
    public ConsoleTrainingHook(ProgressContext? progress, TimeSpan? progressEvery = null)
    {
        _progress = progress;
        _progressEvery = progressEvery;
    }

    public void RunStarted(ITrainingView run)
    {
        _epochs = run.Config.Train.Epochs;
        Line($"training: {_epochs} epochs x {run.Parts.StepsPerEpoch} steps, run directory {run.Run.Path}");
    }

    public void EpochStarted(ITrainingView run, int epoch)
    {
        int batches = run.Parts.StepsPerEpoch, startBatch = run.State.NextBatch / run.Config.Train.Accumulate;
        _epochStartBatch = startBatch;
        _epochClock.Restart();
        if (_progress is null) return;
        _task = _progress.AddTask($"epoch {epoch + 1}/{_epochs}", maxValue: batches);
        _task.Value = startBatch;
    }

    public void StepCompleted(ITrainingView run, StepReport step)
    {
        var (epoch, batch, batches, loss, lr, imagesPerSecond) = (step.Epoch, step.Step, step.StepsPerEpoch, step.Loss, step.LR, step.ImagesPerSecond);
        if (_task is null)
        {
            if (_progressEvery is { } every && _sinceProgressLine.Elapsed >= every && batch < batches)
                ProgressLine(epoch, batch, batches, loss, imagesPerSecond);
            return;
        }
        _task.Value = batch;
        _task.Description = string.Create(CultureInfo.InvariantCulture,
            $"epoch {epoch + 1}/{_epochs}  loss {loss:F4}  lr {lr:0.###e0}  {imagesPerSecond:F1} img/s");
    }

    public void EpochCompleted(ITrainingView run, EpochOutcome epoch)
    {
        var (r, improved) = (epoch.Record, epoch.Improved);
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

    public void Interrupted(ITrainingView run, bool atEpochEnd)
    {
        var state = run.State;
        Line(atEpochEnd
            ? $"Interrupted after epoch {state.Epoch}: checkpoint saved. Resume with: segsharp train --resume {run.Run.Path}"
            : $"Interrupted: checkpoint saved at epoch {state.Epoch + 1}, step {state.GlobalStep}. Resume with: segsharp train --resume {run.Run.Path}");
    }

    public void RunFinished(ITrainingView run, TrainingResult result)
    {
        var train = run.Config.Train;
        if (result.StoppedEarly)
            Line($"Early stop: {Foundation.OptionNames<Configuration.BestMetric>.Name(train.BestMetric)} did not improve for {train.EarlyStopPatience} " +
                $"validations (best at epoch {result.State.BestEpoch + 1}).");
    }

    /// <summary>"epoch 2/10  step 40/100 (40%)  loss 0.3121  6.1 img/s  eta 1m12s".</summary>
    private void ProgressLine(int epoch, int batch, int batches, double loss, double imagesPerSecond)
    {
        _sinceProgressLine.Restart();
        int done = batch - _epochStartBatch;
        var eta = done > 0 ? TimeSpan.FromSeconds(_epochClock.Elapsed.TotalSeconds / done * (batches - batch)) : TimeSpan.Zero;
        Line(string.Create(CultureInfo.InvariantCulture,
            $"epoch {epoch + 1}/{_epochs}  step {batch}/{batches} ({100.0 * batch / batches:F0}%)  loss {loss:F4}  {imagesPerSecond:F1} img/s  " +
            $"eta {(int)eta.TotalMinutes}m{eta.Seconds:D2}s"));
    }

    private void Line(string text)
    {
        if (_progress is not null) AnsiConsole.MarkupLine(Markup.Escape(PrintableWriter.Escape(text)));
        else Console.WriteLine(text);
    }
}
