using System.Globalization;

namespace SegSharp.Configuration;

/// <summary>
/// The bounds of sliding-window settings, shared by <c>evaluation.tile_size</c> / <c>evaluation.tile_overlap</c>
/// and <c>predict --tile</c> / <c>--overlap</c>, so a value accepted in one place is accepted in the other.
/// </summary>
public static class Tiling
{
    /// <summary>0 means "whole image, no tiling".</summary>
    public const int MinTileSize = 0;
    public const int MaxTileSize = 1 << 16;
    public const double MinOverlap = 0.0;

    /// <summary>At 0.8 a tile advances by a fifth of itself: 25 model passes per tile area. At 0.9 it would be 100.</summary>
    public const double MaxOverlap = 0.8;

    /// <summary>
    /// Throws a <see cref="SegSharpException"/> naming the option when a value is out of bounds, or, given the model's
    /// stride, when a tile is smaller than one stride (every tile would be mostly padding, and there would be very many).
    /// </summary>
    public static void Check(int tileSize, double overlap, string tileOption, string overlapOption, int stride = 1)
    {
        if (tileSize > 0 && tileSize < stride)
            throw new SegSharpException(string.Create(CultureInfo.InvariantCulture,
                $"{tileOption} {tileSize} is smaller than the model's stride ({stride}); use 0 (whole image) or at least {stride} " +
                $"(a multiple of {stride}, such as {Math.Max(stride, 256 / stride * stride)}, needs no padding)."));
        if (tileSize is < MinTileSize or > MaxTileSize)
            throw new SegSharpException(string.Create(CultureInfo.InvariantCulture,
                $"{tileOption} {tileSize} is not valid; expected a tile edge from {MinTileSize} (whole image) to {MaxTileSize} pixels."));
        if (!(overlap >= MinOverlap && overlap <= MaxOverlap))
            throw new SegSharpException(string.Create(CultureInfo.InvariantCulture,
                $"{overlapOption} {overlap} is not valid; expected a fraction of the tile from {MinOverlap} to {MaxOverlap}."));
    }
}
