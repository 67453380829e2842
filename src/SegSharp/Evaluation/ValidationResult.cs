namespace SegSharp.Evaluation;

/// <summary>Metrics over a split, its mean loss (null without a loss), and each image's score.</summary>
public sealed record ValidationResult(SegmentationMetrics Metrics, double? Loss, IReadOnlyList<ImageScore> Images, double ImagesPerSecond);
