using System.Text.Json.Serialization;

namespace SegSharp.Training;

/// <summary>One epoch's line in metrics.jsonl / metrics.csv. Validation fields are null on epochs without validation.</summary>
public sealed record EpochRecord
{
    public required int Epoch { get; init; }
    public required long Step { get; init; }
    public required double TrainLoss { get; init; }
    public required double LR { get; init; }
    public required double ImagesPerSecond { get; init; }
    public required double Seconds { get; init; }
    public double? ValidationLoss { get; init; }
    [JsonPropertyName("mean_iou")]
    public double? MeanIoU { get; init; }
    public double? MeanDice { get; init; }
    public double? PixelAccuracy { get; init; }
    [JsonPropertyName("class_iou")]
    public IReadOnlyList<double?>? ClassIoU { get; init; }
    public IReadOnlyList<double?>? ClassDice { get; init; }
}
