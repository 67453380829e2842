namespace SegSharp.Training;

/// <summary>Receives progress from the trainer; the CLI renders it as progress bars or plain lines.</summary>
public interface ITrainingObserver
{
    void RunStarted(int epochs, int batchesPerEpoch, int startEpoch, int startBatch, string runDirectory);

    void EpochStarted(int epoch, int batches, int startBatch);

    void StepCompleted(int epoch, int batch, int batches, double loss, double lr, double imagesPerSecond);

    void EpochCompleted(EpochRecord record, bool improved);

    void Message(string text);
}
