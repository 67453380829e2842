namespace SegSharp.Evaluation;

/// <summary>
/// One class's figures. Null means undefined and excluded from means: IoU and Dice when the class is absent from
/// both truth and prediction; precision when it was never predicted and never present; recall when never present.
/// </summary>
public sealed record ClassMetrics(string Name, long TruePositives, long FalsePositives, long FalseNegatives,
    double? IoU, double? Dice, double? Precision, double? Recall)
{
    public long Support => TruePositives + FalseNegatives;

    /// <summary>Multilabel only: pixels where the class is neither present nor predicted (null for multiclass).</summary>
    public long? TrueNegatives { get; init; }
}
