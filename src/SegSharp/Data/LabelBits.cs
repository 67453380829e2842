namespace SegSharp.Data;

/// <summary>
/// How a multilabel mask is held in a sample's int mask: bit c of a pixel is set when class c is present, and
/// <see cref="Ignore"/> (all bits) marks a pixel that counts for no class. Joint transforms move these values like
/// class indices (nearest neighbour, crops padded with the ignore value), so they need no multilabel case.
/// </summary>
public static class LabelBits
{
    /// <summary>A pixel left out of every class's loss and metrics.</summary>
    public const int Ignore = -1;

    /// <summary>The most classes a multilabel dataset may have: one bit each in an int, the sign bit kept for <see cref="Ignore"/>.</summary>
    public const int MaxClasses = 30;

    public static bool Has(int pixel, int classIndex) => pixel != Ignore && (pixel >> classIndex & 1) != 0;

    /// <summary>
    /// Pixels per class of a label map: class indices (each pixel counts for its class), or with <paramref name="multiLabel"/>
    /// label bits (each pixel counts for every class it holds; ignored pixels for none).
    /// </summary>
    public static long[] ClassPixels(int[] labels, int classes, bool multiLabel)
    {
        var counts = new long[classes];
        foreach (int v in labels)
        {
            if (!multiLabel)
            {
                if (v >= 0 && v < classes) counts[v]++;
                continue;
            }
            for (int c = 0; c < classes; c++) counts[c] += Has(v, c) ? 1 : 0;
        }
        return counts;
    }

    /// <summary>
    /// [.., C, ..] with class planes inserted at <paramref name="dim"/> of <paramref name="labels"/> (int64): whether bit c is
    /// set, by floor division and remainder, which every libtorch build has for int64. Ignored pixels come out meaningless
    /// (mask them).
    /// </summary>
    public static TorchSharp.torch.Tensor Planes(TorchSharp.torch.Tensor labels, int classes, int dim)
    {
        using var scope = TorchSharp.torch.NewDisposeScope();
        var shape = Enumerable.Repeat(1L, (int)labels.dim() + 1).ToArray();
        shape[dim] = classes;
        var powers = TorchSharp.torch.tensor(Enumerable.Range(0, classes).Select(c => 1L << c).ToArray(), shape, device: labels.device);
        return labels.unsqueeze(dim).floor_divide(powers).remainder(2).ne(0).MoveToOuterDisposeScope();
    }
}
