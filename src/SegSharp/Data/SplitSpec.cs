namespace SegSharp.Data;

/// <summary>How samples are divided into train and validation: a seeded ratio, or list files of stems.</summary>
public sealed record SplitSpec(SplitMethod Method, double ValidationFraction, long Seed, string? TrainList, string? ValidationList);
