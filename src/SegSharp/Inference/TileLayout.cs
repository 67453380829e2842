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

    /// <summary>Whether an image of this size is cut into tiles of edge <paramref name="tile"/> (0 = whole) rather than predicted whole.</summary>
    public static bool IsTiled(long height, long width, int tile) => tile > 0 && (height > tile || width > tile);

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

    /// <summary>
    /// One side of the separable blending weight, a Gaussian as nnU-Net's: exp(-d²/2σ²) with d the distance of the pixel
    /// centre from the tile centre and σ = size/8, so the centre counts 1 and an edge pixel about 3e-4 (never 0; each pixel's
    /// weighted sum is divided by its summed weights, so the weights' scale cancels). A tile's edge pixels, which see the
    /// least context, then barely count wherever a neighbouring tile covers them.
    /// </summary>
    public static float[] Gaussian(int size)
    {
        double sigma = size / 8.0, centre = size / 2.0;
        return Enumerable.Range(0, size).Select(i => (float)Math.Exp(-Math.Pow(i + 0.5 - centre, 2) / (2 * sigma * sigma))).ToArray();
    }
}
