using SegSharp.Configuration;
using static TorchSharp.torch;

namespace SegSharp.Training;

/// <summary>
/// Where a run continues from: a fresh state, or the newest valid checkpoint of the run directory after the checks that it
/// trains the same thing (weight-relevant settings, number of processes, the dataset's content). <see cref="Find"/> also
/// loads the checkpoint's weights, optimiser moments and libtorch's generator, and gives every process rank 0's weights.
/// </summary>
/// <param name="State">The training state to continue with.</param>
/// <param name="From">The checkpoint resumed from; null for a fresh run.</param>
public sealed record ResumePoint(TrainingState State, string? From)
{
    /// <param name="allowDataChange">Resume even if the dataset's content changed since the run started (recorded in warnings.txt).</param>
    /// <param name="report">Lines for the person (rank 0 speaks for all processes).</param>
    public static ResumePoint Find(TrainingParts parts, bool allowDataChange, Action<string> report)
    {
        var config = parts.Config;
        var restored = Restore(parts, report);
        var point = restored is null
            ? new ResumePoint(new TrainingState
            {
                ConfigHash = config.TrainingHash, ConfigYaml = config.EffectiveYaml, DatasetSha256 = parts.DatasetSha256, WorldSize = parts.Collective.Size,
            }, null)
            : restored with { State = CheckDataset(parts, restored.State, allowDataChange, report) };
        parts.Parallel.BroadcastWeights(parts.Model);
        return point;
    }

    /// <summary>
    /// Rank 0 finds the newest valid checkpoint and sends its bytes to the others, so every process resumes from the
    /// same one even when only rank 0 can see the run directory.
    /// </summary>
    private static ResumePoint? Restore(TrainingParts parts, Action<string> report)
    {
        var (run, collective) = (parts.Run, parts.Collective);
        string? path = null;
        byte[]? bytes = null;
        CheckpointContents? found = null;
        using var guard = Runtime.NativeScalarGuard.Enter();
        if (collective.IsRoot && run.Checkpoints.Any)
        {
            (path, bytes, found) = run.Checkpoints.LoadNewestValid(report)
                ?? throw new SegSharpException($"Run directory '{run.Path}' has checkpoints, but none passes its checksum. Move them away to start over.");
        }
        if (collective.Size > 1)
        {
            bytes = collective.Broadcast(bytes ?? Array.Empty<byte>());
            if (!collective.IsRoot && bytes.Length > 0) found = Checkpoint.Parse(bytes);
        }
        if (found is null) return null;
        path ??= run.Checkpoints.LastPath;
        bool format1 = found.Card is not { Format: >= 2 };
        CheckSameTraining(parts, found.State, format1);
        if (found.State.WorldSize != collective.Size)
            throw new SegSharpException($"Run directory '{run.Path}' was trained by {found.State.WorldSize} process(es) and is being resumed by " +
                $"{collective.Size}: the gradient sums would round differently, so the run would not repeat. Resume it with " +
                $"{(found.State.WorldSize == 1 ? "a single process (no mpirun)" : $"'mpirun -np {found.State.WorldSize}'")}, " +
                "or train into another output.dir.");
        Checkpoint.LoadModel(parts.Model, found.Model);
        Checkpoint.LoadOptimizer(parts.Optimizer, found.Optimizer);
        if (found.State.TorchRandomState.Length > 0)
        {
            using var rng = tensor(found.State.TorchRandomState, dtype: ScalarType.Byte);
            random.set_rng_state(rng);
        }
        report($"Resuming from {path}: epoch {found.State.Epoch + 1}, step {found.State.GlobalStep}.");
        // The checkpoints this run writes from now on carry a format-2 card, so their stored config must be format 2 too.
        var state = format1 && found.State.ConfigYaml.Length > 0
            ? found.State with { ConfigYaml = ConfigDifference.WithCurrentDefaults(found.State.ConfigYaml, format1: true) }
            : found.State;
        return new ResumePoint(state, path);
    }

    /// <summary>
    /// A resume must train the same thing: any changed key that can reach the weights is refused, named with its
    /// old and new value. More epochs count too: the learning-rate schedule spans all epochs from the first step,
    /// so a longer run is a different run.
    /// </summary>
    private static void CheckSameTraining(TrainingParts parts, TrainingState found, bool format1)
    {
        var (config, run) = (parts.Config, parts.Run);
        if (found.ConfigYaml.Length == 0)
        {
            if (found.ConfigHash == config.TrainingHash) return;
            throw new SegSharpException($"Run directory '{run.Path}' holds a checkpoint of another config. Resume with its own config " +
                $"('segsharp train --resume {run.Path}'), or choose another output.dir.");
        }
        var changed = ConfigDifference.WeightRelevant(ConfigDifference.WithCurrentDefaults(found.ConfigYaml, format1), config.EffectiveYaml);
        if (changed.Count == 0) return;
        string epochs = changed.Any(d => d.Key == "train.epochs")
            ? " A run cannot be extended: the learning-rate schedule and validation plan span all epochs from the first step."
            : "";
        throw new SegSharpException($"Run directory '{run.Path}' holds a checkpoint trained with other settings: {ConfigDifference.Describe(changed)}." +
            $"{epochs} Resume with the run's own settings ('segsharp train --resume {run.Path}' without changing those keys), " +
            "or train into another output.dir.");
    }

    /// <summary>
    /// A resumed run must see the data it started with: images or masks replaced in between would silently mix two
    /// datasets into one model. Refused unless allowed; an allowed change is reported and recorded in warnings.txt.
    /// </summary>
    private static TrainingState CheckDataset(TrainingParts parts, TrainingState restored, bool allowDataChange, Action<string> report)
    {
        string now = parts.DatasetSha256;
        if (restored.DatasetSha256.Length == 0 || restored.DatasetSha256 == now) return restored;
        string change = $"The dataset '{parts.Description.Name}' changed since this run started (content SHA-256 {restored.DatasetSha256[..12]}… now " +
            $"{now[..12]}…)";
        if (!allowDataChange)
            throw new SegSharpException($"{change}; resuming would train one model on two datasets. Restore the data, train into another output.dir, " +
                "or pass --allow-data-change to continue anyway (recorded in the run's warnings.txt).");
        string line = $"{DateTime.UtcNow:yyyy-MM-dd HH:mm:ss}Z at step {restored.GlobalStep}: {change}; continued with --allow-data-change.";
        if (parts.Collective.IsRoot) File.AppendAllText(parts.Run.File(RunDirectory.WarningsFile), line + "\n");
        report($"warning: {change}; continuing as --allow-data-change asks (recorded in warnings.txt).");
        return restored with { DatasetSha256 = now };
    }
}
