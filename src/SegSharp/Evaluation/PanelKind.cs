using SegSharp.Foundation;

namespace SegSharp.Evaluation;

/// <summary>Why an image was drawn into a report: among the first of the split, or among its worst by IoU. The name is the file prefix.</summary>
public enum PanelKind
{
    [OptionName("sample")] Sample,
    [OptionName("worst")] Worst,
}
