namespace SegSharp.Inference;

/// <summary>One input file's outcome: where its mask and overlay went, or why it was skipped.</summary>
public sealed record PredictionResult(string Input, string? MaskPath, string? OverlayPath, string? Error, IReadOnlyList<long> ClassPixels);
