using SegSharp.Configuration;
using SegSharp.Data;

namespace SegSharp.Evaluation;

/// <summary>An evaluation's figures plus the panels drawn for chosen images (first samples and worst by IoU).</summary>
public sealed record EvaluatedSplit(string Split, ValidationResult Result, DatasetDescription Description,
    IReadOnlyList<(PanelKind Kind, ImageScore Score, byte[] Png)> Panels, string Precision)
{
    /// <summary>Flip test-time augmentation, as set for the evaluation.</summary>
    public bool FlipTta { get; init; }

    /// <summary>Test-time scales, as set for the evaluation ([1] = none).</summary>
    public IReadOnlyList<double> TtaScales { get; init; } = TestTimeAugmentation.NoScaling;

    /// <summary>libtorch's layout and why (<see cref="Models.ChannelsLast.Apply"/>); "n/a" for ONNX Runtime.</summary>
    public string MemoryFormat { get; init; } = "contiguous";
}
