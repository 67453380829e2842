namespace SegSharp.Training;

/// <summary>One optimiser step as hooks see it. <see cref="Step"/> counts from 1 within the epoch.</summary>
public sealed record StepReport(int Epoch, int Step, int StepsPerEpoch, double Loss, double LR, double ImagesPerSecond)
{
    public bool LastOfEpoch => Step >= StepsPerEpoch;
}
