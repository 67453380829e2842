using SegSharp.Configuration;
namespace SegSharp.Inference;

/// <summary>
/// How a model file is run to predict, recorded beside the outputs (<c>prediction.json</c>) and shown by <c>serve</c>'s
/// <c>GET /model</c>: the engine and its version, the precision, threads (0 = the engine's default), tiling and its
/// blending, test-time augmentation (flips, scales, and the work they cost as a multiple of one pass), and how many tiles go
/// through the engine per call.
/// </summary>
public sealed record PredictionSettings(string Model, string Engine, string EngineVersion, string Precision, int Threads, int TileSize,
    double TileOverlap, bool FlipTta, IReadOnlyList<double> TtaScales, int TileBatch)
{
    /// <summary>libtorch's layout and why (<see cref="Models.ChannelsLast.Apply"/>); "n/a" for ONNX Runtime.</summary>
    public string MemoryFormat { get; init; } = "n/a";

    /// <summary>ONNX Runtime's graph optimisation level (all, extended, basic, none); "n/a" for libtorch.</summary>
    public string GraphOptimization { get; init; } = "n/a";

    /// <summary>ONNX Runtime's optimised graph kept next to the model, if any.</summary>
    public string? OptimizedCache { get; init; }

    public string TileBlending => "gaussian (sigma = tile/8)";

    public string TestTimeAugmentation => SegSharp.Configuration.TestTimeAugmentation.Describe(FlipTta, TtaScales);

    public int TtaPasses => SegSharp.Configuration.TestTimeAugmentation.Passes(FlipTta, TtaScales);

    public double TtaWorkFactor => SegSharp.Configuration.TestTimeAugmentation.WorkFactor(FlipTta, TtaScales);
}
