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

    /// <summary>With tile_size 0, images with more pixels than this are tiled at 1024 anyway (memory); 0 = never.</summary>
    public required long MaxWholePixels { get; init; }

    /// <summary>Overlap between neighbouring tiles, as a fraction of the tile.</summary>
    public required double TileOverlap { get; init; }

    /// <summary>Average predictions over horizontal and vertical flips.</summary>
    public required bool FlipTta { get; init; }

    /// <summary>
    /// Test-time scales whose probabilities are averaged (with flips too when <see cref="FlipTta"/> is on); [1] = none.
    /// See <see cref="TestTimeAugmentation"/>.
    /// </summary>
    public IReadOnlyList<double> TtaScales { get; init; } = TestTimeAugmentation.NoScaling;

    public required InferencePrecision Precision { get; init; }

    /// <summary>How libtorch lays out the model when evaluating and predicting (<see cref="Configuration.MemoryFormat"/>).</summary>
    public MemoryFormat MemoryFormat { get; init; } = MemoryFormat.Auto;

    /// <summary>Multilabel datasets: the probability above which a class counts as present (ignored for multiclass).</summary>
    public double Threshold { get; init; } = 0.5;

    internal static EvaluationConfig Read(ConfigSection s) => new()
    {
        Samples = s.GetInt("samples", 4, 0, 1000),
        Worst = s.GetInt("worst", 4, 0, 1000),
        TileSize = s.GetInt("tile_size", 0, Tiling.MinTileSize, Tiling.MaxTileSize),
        TileOverlap = s.GetDouble("tile_overlap", 0.25, Tiling.MinOverlap, Tiling.MaxOverlap),
        MaxWholePixels = s.GetLong("max_whole_pixels", 2048L * 2048, 0),
        FlipTta = s.GetBool("flip_tta", false),
        TtaScales = TestTimeAugmentation.Check(s.GetDoubles("tta_scales", new[] { 1.0 }), "evaluation.tta_scales"),
        Precision = s.GetEnum("precision", InferencePrecision.Auto),
        MemoryFormat = s.GetEnum("memory_format", MemoryFormat.Auto),
        Threshold = s.GetDouble("threshold", 0.5, 0.01, 0.99),
    };
}
