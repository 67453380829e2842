using SegSharp.Models;

namespace SegSharp.Training;

/// <summary>The parsed sections of a checkpoint. <see cref="Card"/> is null in files written before model cards.</summary>
public sealed record CheckpointContents(ModelCard? Card, TrainingState State, byte[] Model, byte[] Optimizer);
