namespace SegSharp.Training.Hooks;

/// <summary>
/// TensorBoard scalars (train loss and LR per step; validation loss, mIoU, mDice, accuracy per validated epoch)
/// and validation prediction panels, in the run's tensorboard/ folder. One event file per process.
/// </summary>
internal sealed class TensorBoardHook : ITrainingHook, IDisposable
{
    private TensorBoardWriter? _board;

    public void RunStarted(ITrainingView session) =>
        _board = new TensorBoardWriter(session.Run.TensorBoardDirectory, Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));

    public void StepCompleted(ITrainingView session, StepReport step)
    {
        _board!.Scalar("train/loss", step.Loss, session.State.GlobalStep);
        _board.Scalar("train/lr", step.LR, session.State.GlobalStep);
    }

    public void EpochCompleted(ITrainingView session, EpochOutcome epoch)
    {
        var r = epoch.Record;
        if (r.MeanIoU is null) return;
        long step = session.State.GlobalStep;
        _board!.Scalar("val/loss", r.ValidationLoss ?? 0, step);
        _board.Scalar("val/mean_iou", r.MeanIoU.Value, step);
        _board.Scalar("val/mean_dice", r.MeanDice ?? 0, step);
        _board.Scalar("val/pixel_accuracy", r.PixelAccuracy ?? 0, step);
        PredictionImages.Log(_board, session.Parts.Model, session.Parts.ValidationLoader!, session.Parts.Description, step);
    }

    public void Dispose() => _board?.Dispose();
}
