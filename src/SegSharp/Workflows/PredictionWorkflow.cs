using SegSharp.Configuration;
using SegSharp.Inference;
using SegSharp.Models;

namespace SegSharp.Workflows;

/// <summary>
/// "Predict a folder": index masks and colour overlays for an image or every image of a folder, from a model
/// file alone. Unset options take the model's own evaluation settings; tile size and overlap go through the
/// same bounds as <c>evaluation.tile_size</c> and <c>evaluation.tile_overlap</c>.
/// </summary>
public sealed class PredictionWorkflow : IDisposable
{
    private readonly TrainedModel _trained;
    private readonly FolderPredictor _predictor;

    private PredictionWorkflow(TrainedModel trained, FolderPredictor predictor, IReadOnlyList<string> files, string output)
    {
        _trained = trained;
        _predictor = predictor;
        Files = files;
        Output = output;
    }

    /// <summary>The images that will be predicted, in natural name order.</summary>
    public IReadOnlyList<string> Files { get; }

    /// <summary>The absolute output folder (masks/ and overlays/ go inside).</summary>
    public string Output { get; }

    /// <param name="tileSize">Sliding-window tile edge; 0 = whole image; null = the model's evaluation.tile_size.</param>
    /// <param name="overlap">Tile overlap fraction; null = the model's evaluation.tile_overlap.</param>
    /// <param name="flipTta">Average over flips; the model's evaluation.flip_tta applies too.</param>
    /// <param name="precision">null = the model's evaluation.precision.</param>
    /// <param name="overwrite">Replace masks and overlays that exist in <paramref name="output"/>; without it they are refused.</param>
    public static PredictionWorkflow Open(string checkpoint, string input, string output, int? tileSize = null, double? overlap = null,
        bool flipTta = false, InferencePrecision? precision = null, bool overwrite = false)
    {
        var files = FolderPredictor.Inputs(input);
        var existing = overwrite ? Array.Empty<string>() : FolderPredictor.ExistingOutputs(files, Path.GetFullPath(output));
        if (existing.Count > 0)
            throw new SegSharpException($"Output '{existing[0]}' exists{(existing.Count > 1 ? $" (and {existing.Count - 1} more)" : "")}; " +
                "pass --overwrite to replace, or choose another --output.");
        var trained = TrainedModel.Load(checkpoint);
        try
        {
            var settings = trained.Config.Evaluation;
            int tile = tileSize ?? settings.TileSize;
            double tileOverlap = overlap ?? settings.TileOverlap;
            Tiling.Check(tile, tileOverlap, "--tile", "--overlap", trained.Model.Stride);
            trained.Model.ComputeType = ComputePrecision.Of(precision ?? settings.Precision);
            var predictor = new FolderPredictor(trained, tile, tileOverlap, flipTta || settings.FlipTta);
            return new PredictionWorkflow(trained, predictor, files, Path.GetFullPath(output));
        }
        catch
        {
            trained.Dispose();
            throw;
        }
    }

    /// <summary>Predicts the files one by one; each result says where its mask went or why the file was skipped.</summary>
    public IEnumerable<PredictionResult> Run() => _predictor.Run(Files, Output);

    public void Dispose() => _trained.Dispose();
}
