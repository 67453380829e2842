using SegSharp.Configuration;
using SegSharp.Inference;

namespace SegSharp.Workflows;

/// <summary>How <c>predict</c> and <c>serve</c> run a model file; whatever is left unset comes from the model's evaluation settings.</summary>
public sealed record PredictionOptions
{
    /// <summary>Sliding-window tile edge; 0 = whole image; null = the model's evaluation.tile_size.</summary>
    public int? TileSize { get; init; }

    /// <summary>Tile overlap fraction; null = the model's evaluation.tile_overlap.</summary>
    public double? Overlap { get; init; }

    /// <summary>Average over flips; the model's evaluation.flip_tta applies too.</summary>
    public bool FlipTta { get; init; }

    /// <summary>Test-time scales (<see cref="TestTimeAugmentation"/>); null = the model's evaluation.tta_scales.</summary>
    public IReadOnlyList<double>? Scales { get; init; }

    /// <summary>null = the model's evaluation.precision; ONNX models run in float32.</summary>
    public InferencePrecision? Precision { get; init; }

    /// <summary>Checkpoints: libtorch's layout; null = the model's evaluation.memory_format (ONNX models: ignored).</summary>
    public MemoryFormat? MemoryFormat { get; init; }

    /// <summary>ONNX models: how much ONNX Runtime optimises the graph (checkpoints: ignored).</summary>
    public GraphOptimization GraphOptimization { get; init; } = GraphOptimization.All;

    /// <summary>Intra-op threads of libtorch or ONNX Runtime; 0 = one per core.</summary>
    public int Threads { get; init; }

    internal void Check()
    {
        if (Threads < 0) throw new SegSharpException($"--threads {Threads} is not valid; give 0 (one per core) or a positive number of threads.");
        if (Scales is not null) TestTimeAugmentation.Check(Scales, "--scales");
    }
}
