namespace SegSharp.Configuration;

/// <summary>The training loop's settings.</summary>
public sealed record TrainConfig
{
    public required int Epochs { get; init; }
    public required int BatchSize { get; init; }
    public required long Seed { get; init; }

    /// <summary>libtorch intra-op threads; 0 = one per core. Part of what makes a run reproducible.</summary>
    public required int Threads { get; init; }
    public required DeviceKind Device { get; init; }

    /// <summary>Optimiser steps per epoch; 0 = one pass over the training split.</summary>
    public required int IterationsPerEpoch { get; init; }

    /// <summary>Validate every N epochs (the last epoch always validates).</summary>
    public required int ValidateEvery { get; init; }

    /// <summary>Also checkpoint every N optimiser steps; 0 = only at epoch ends.</summary>
    public required int CheckpointEvery { get; init; }

    /// <summary>Max global gradient norm; 0 = no clipping.</summary>
    public required double GradientClip { get; init; }

    /// <summary>Batches whose gradients are summed per optimiser step.</summary>
    public required int Accumulate { get; init; }

    /// <summary>Stop after N validations without improvement of <see cref="BestMetric"/>; 0 = never.</summary>
    public required int EarlyStopPatience { get; init; }

    public required BestMetric BestMetric { get; init; }

    public required TrainingPrecision Precision { get; init; }

    /// <summary>Images per validation batch.</summary>
    public required int ValidationBatchSize { get; init; }

    /// <summary>
    /// In data-parallel training, batch norm with the statistics of the whole batch over all processes instead of each
    /// process's share (no effect on one process).
    /// </summary>
    public required bool SyncBatchNorm { get; init; }

    internal static TrainConfig Read(ConfigSection s) => new()
    {
        Epochs = s.GetInt("epochs", 10, 1, 100000),
        BatchSize = s.GetInt("batch_size", 8, 1, 4096),
        Seed = s.GetLong("seed", 42),
        Threads = s.GetInt("threads", 0, 0, 1024),
        Device = s.GetEnum("device", DeviceKind.Cpu),
        IterationsPerEpoch = s.GetInt("iters_per_epoch", 0, 0),
        ValidateEvery = s.GetInt("val_every", 1, 1),
        CheckpointEvery = s.GetInt("checkpoint_every", 0, 0),
        GradientClip = s.GetDouble("grad_clip", 0.0, 0.0),
        Accumulate = s.GetInt("accumulate", 1, 1, 1024),
        EarlyStopPatience = s.GetInt("early_stop_patience", 0, 0),
        BestMetric = s.GetEnum("best_metric", BestMetric.MeanDice),
        Precision = s.GetEnum("precision", TrainingPrecision.Float32),
        ValidationBatchSize = s.GetInt("val_batch_size", 2, 1, 4096),
        SyncBatchNorm = s.GetBool("sync_batch_norm", false),
    };
}
