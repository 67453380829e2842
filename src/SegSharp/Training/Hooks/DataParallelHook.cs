namespace SegSharp.Training.Hooks;

/// <summary>
/// Data-parallel training across processes: when a step's gradients are ready, averages them over all processes and
/// gives every process rank 0's batch-norm running statistics (<see cref="DataParallel"/>). Clipping and the optimiser
/// step that follow act on the averaged gradient, identically in every process.
/// </summary>
internal sealed class DataParallelHook : ITrainingHook
{
    public void GradientsReady(TrainingSession session)
    {
        session.Parallel.AverageGradients();
        session.Parallel.BroadcastBuffers();
    }
}
