namespace SegSharp.Inference;

/// <summary>
/// How a model file is run to predict, recorded beside the outputs (<c>prediction.json</c>) and shown by <c>serve</c>'s
/// <c>GET /model</c>: the engine and its version, the precision, threads (0 = the engine's default), tiling, flip TTA,
/// and how many tiles go through the engine per call.
/// </summary>
public sealed record PredictionSettings(string Model, string Engine, string EngineVersion, string Precision, int Threads, int TileSize,
    double TileOverlap, bool FlipTta, int TileBatch);
