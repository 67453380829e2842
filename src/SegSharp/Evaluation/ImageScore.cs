namespace SegSharp.Evaluation;

/// <summary>One image's mean IoU and Dice (empty classes excluded), for ranking the worst predictions.</summary>
public sealed record ImageScore(string Name, int Index, double MeanIoU, double MeanDice);
