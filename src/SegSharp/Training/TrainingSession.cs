using SegSharp.Data;
using SegSharp.Losses;
using SegSharp.Runtime;
using static TorchSharp.torch;

namespace SegSharp.Training;

/// <summary>
/// A training run in progress: its <see cref="TrainingParts"/>, where it stands (<see cref="State"/>) and the step that
/// moves it. Only the trainer holds one; hooks see it as an <see cref="ITrainingView"/>, which has no way to change it.
/// </summary>
internal sealed class TrainingSession(TrainingParts parts, ResumePoint start, Action<string> report) : ITrainingView
{
    public TrainingParts Parts { get; } = parts;

    public TrainingState State { get; private set; } = start.State;

    public string? ResumedFrom { get; } = start.From;

    /// <summary>A line for the person running training; rank 0 speaks for all processes.</summary>
    public void Report(string message)
    {
        if (Parts.Collective.IsRoot) report(message);
    }

    /// <summary>Forward, loss and backward of one batch, gradients scaled for accumulation.</summary>
    /// <returns>The batch's loss before scaling.</returns>
    public double ForwardBackward(HostBatch batch)
    {
        using var guard = NativeScalarGuard.Enter();
        using var scope = NewDisposeScope();
        // The loss of the whole batch (its sums over every process's share), so N processes train the one-process model.
        var value = Parts.Loss.Compute(Parts.Model.forward(batch.ImageTensor()), batch.MaskTensor(), BatchReduction.Across(Parts.Collective));
        double lossValue = value.item<float>();
        if (!double.IsFinite(lossValue)) throw Diverged(batch.Index, lossValue);
        (value / Parts.Config.Train.Accumulate).backward();
        return lossValue;
    }

    /// <summary>
    /// Averages the gradients over the processes (rank 0's batch-norm statistics to all), sets the scheduled learning
    /// rate, clips, steps the optimiser and clears gradients.
    /// </summary>
    /// <returns>The learning rate used.</returns>
    public double OptimizerStep()
    {
        var (config, model, optimizer) = (Parts.Config, Parts.Model, Parts.Optimizer);
        if (Parts.Collective.Size > 1)
        {
            Parts.Parallel.AverageGradients();
            Parts.Parallel.BroadcastBuffers();
        }
        double lr = LearningRateSchedule.At(config.Schedule, config.Optimizer.LR, State.GlobalStep, Parts.TotalSteps);
        OptimizerFactory.SetLearningRate(optimizer, config.Optimizer, lr);
        if (config.Train.GradientClip > 0) nn.utils.clip_grad_norm_(model.parameters(), config.Train.GradientClip);
        optimizer.step();
        optimizer.zero_grad();
        return lr;
    }

    /// <summary>Moves the state on; the trainer alone calls this.</summary>
    public void Advance(Func<TrainingState, TrainingState> next) => State = next(State);

    /// <summary>Writes <see cref="State"/> (with the hooks' entries), weights, optimiser and libtorch's generator as last.ckpt, in the background.</summary>
    public void SaveCheckpoint(IReadOnlyDictionary<string, string> entries)
    {
        if (!Parts.Collective.IsRoot) return;
        using var guard = NativeScalarGuard.Enter();
        using var rng = random.get_rng_state();
        var state = State with { TorchRandomState = rng.bytes.ToArray(), HookEntries = entries };
        Parts.Run.Checkpoints.SaveLastInBackground(Checkpoint.Serialize(Parts.Card, state, Parts.Model, Parts.Optimizer));
    }

    /// <summary>Writes the current weights as best.ckpt (no optimiser state), once the last.ckpt being written is on disk.</summary>
    public void SaveBest(IReadOnlyDictionary<string, string> entries)
    {
        if (!Parts.Collective.IsRoot) return;
        using var guard = NativeScalarGuard.Enter();
        Parts.Run.Checkpoints.WaitForWrites();
        Parts.Run.Checkpoints.SaveBest(Checkpoint.Serialize(Parts.Card, State with { HookEntries = entries }, Parts.Model, null));
    }

    /// <summary>How the run stands now, with the SHA-256 of the current weights.</summary>
    public TrainingResult Result(bool interrupted, bool stoppedEarly) =>
        new(Parts.Run, State, Checkpoint.WeightsHash(Parts.Model), interrupted, stoppedEarly);

    private SegSharpException Diverged(int batch, double value)
    {
        var checkpoints = Parts.Run.Checkpoints;
        checkpoints.WaitForWrites();
        string good = File.Exists(checkpoints.LastPath) ? $"The last good checkpoint is {checkpoints.LastPath}." : "No checkpoint was written yet.";
        return new SegSharpException($"Training diverged: the loss is {value} at epoch {State.Epoch + 1}, step {State.GlobalStep + 1} (batch {batch}). " +
            $"{good} Lower optimizer.lr or set train.grad_clip.");
    }
}
