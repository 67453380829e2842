namespace SegSharp.Inference;

/// <summary>
/// Where tiles go and how much each pixel of a tile counts, shared by the libtorch and the ONNX Runtime predictors
/// so both cut and blend an image the same way.
/// </summary>
internal static class TileLayout
{
    /// <summary>The tile edge an image of this size is predicted with; 0 for whole.</summary>
    public static int TileFor(long height, long width, int tileSize, long maxWholePixels) =>
        tileSize > 0 ? tileSize : maxWholePixels > 0 && height * width > maxWholePixels ? TiledPredictor.AutoTileSize : 0;

    /// <summary>Tile origins covering [0, size): stride tile·(1 - overlap), the last tile flush with the edge.</summary>
    public static IReadOnlyList<long> Starts(long size, int tile, double overlap)
    {
        if (size <= tile) return new long[] { 0 };
        long stride = Math.Max(1, (long)Math.Round(tile * (1 - overlap)));
        var starts = new List<long>();
        for (long s = 0; s + tile < size; s += stride) starts.Add(s);
        starts.Add(size - tile);
        return starts;
    }

    /// <summary>One side of the separable blending weight: 1 at the centre falling linearly to 0.1 at the edges.</summary>
    public static float[] Ramp(int size) => Enumerable.Range(0, size).Select(i => 0.1f + 0.9f * (1f - Math.Abs((i + 0.5f) / size * 2f - 1f))).ToArray();
}
