namespace SegSharp.Configuration;

/// <summary>What evaluation and prediction produce.</summary>
public sealed record EvaluationConfig
{
    /// <summary>Overlay panels for the first N images.</summary>
    public required int Samples { get; init; }

    /// <summary>Overlay panels for the N images with the lowest IoU.</summary>
    public required int Worst { get; init; }

    /// <summary>Sliding-window tile edge in pixels; 0 = whole image at once.</summary>
    public required int TileSize { get; init; }

    /// <summary>Overlap between neighbouring tiles, as a fraction of the tile.</summary>
    public required double TileOverlap { get; init; }

    /// <summary>Average predictions over horizontal and vertical flips.</summary>
    public required bool FlipTta { get; init; }

    /// <summary>float32, or bfloat16 (bfloat16 convolutions around float32 weights; faster on CPUs with BF16 units).</summary>
    public required string Precision { get; init; }

    internal static EvaluationConfig Read(ConfigSection s) => new()
    {
        Samples = s.GetInt("samples", 4, 0, 1000),
        Worst = s.GetInt("worst", 4, 0, 1000),
        TileSize = s.GetInt("tile_size", 0, 0),
        TileOverlap = s.GetDouble("tile_overlap", 0.25, 0.0, 0.9),
        FlipTta = s.GetBool("flip_tta", false),
        Precision = s.GetString("precision", "auto", Models.ComputePrecision.Inference),
    };
}
