using SegSharp.Data;

namespace SegSharp.Evaluation;

/// <summary>An evaluation's figures plus the panels drawn for chosen images (first samples and worst by IoU).</summary>
public sealed record EvaluatedSplit(string Split, ValidationResult Result, DatasetDescription Description,
    IReadOnlyList<(PanelKind Kind, ImageScore Score, byte[] Png)> Panels, string Precision);
