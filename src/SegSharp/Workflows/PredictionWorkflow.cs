using SegSharp.Configuration;
using SegSharp.Inference;
using SegSharp.Models;
using SegSharp.Runtime;

namespace SegSharp.Workflows;

/// <summary>
/// "Predict a folder": index masks and colour overlays for an image or every image of a folder, from a model
/// file alone: a checkpoint (run by libtorch) or an exported ONNX model (run by ONNX Runtime). Unset options take
/// the model's own evaluation settings; tile size and overlap go through the same bounds as
/// <c>evaluation.tile_size</c> and <c>evaluation.tile_overlap</c>.
/// </summary>
public sealed class PredictionWorkflow : IDisposable
{
    private readonly IDisposable _model;
    private readonly FolderPredictor _predictor;

    private readonly long _maxPixels;

    private PredictionWorkflow(IDisposable model, FolderPredictor predictor, Inputs inputs, string output, long maxPixels)
    {
        _model = model;
        _predictor = predictor;
        Files = inputs.ToPredict;
        Done = inputs.Done;
        Output = output;
        _maxPixels = maxPixels;
    }

    /// <summary>The images that will be predicted, in natural name order.</summary>
    public IReadOnlyList<string> Files { get; }

    /// <summary>With <c>resume</c>: the images whose mask and overlay were written by an earlier run, not predicted again.</summary>
    public int Done { get; }

    /// <summary>The absolute output folder (masks/ and overlays/ go inside).</summary>
    public string Output { get; }

    /// <param name="model">A checkpoint (.ckpt) or a model from <c>segsharp export --format onnx</c> (.onnx).</param>
    /// <param name="options">Tiling, test-time augmentation, precision and threads; unset ones take the model's evaluation settings.</param>
    /// <param name="overwrite">Replace masks and overlays that exist in <paramref name="output"/>; without it they are refused.</param>
    /// <param name="resume">Skip the images whose mask and overlay are both in <paramref name="output"/> (an interrupted or failed run's
    /// finished work) and predict the rest, replacing a mask left without its overlay.</param>
    /// <param name="maxPixels">Refuse (skip, with the reason) an image whose header declares more pixels than this.</param>
    public static PredictionWorkflow Open(string model, string input, string output, PredictionOptions? options = null, bool overwrite = false,
        bool resume = false, long maxPixels = Data.ImageFiles.DefaultMaxPixels)
    {
        if (maxPixels < 1) throw new SegSharpException($"--max-pixels {maxPixels} is not valid; give a positive number of pixels.");
        if (overwrite && resume) throw new SegSharpException("--overwrite and --resume contradict each other: --resume keeps finished outputs. Pass one.");
        options ??= new PredictionOptions();
        options.Check();
        var inputs = Select(FolderPredictor.Inputs(input), Path.GetFullPath(output), overwrite, resume);
        var (loaded, predictor) = OpenPredictor(model, options);
        try
        {
            // What ran, beside what it wrote: engine and version, precision, threads, tiling, TTA.
            Directory.CreateDirectory(Path.GetFullPath(output));
            Foundation.AtomicFile.WriteAllText(Path.Combine(Path.GetFullPath(output), "prediction.json"),
                System.Text.Json.JsonSerializer.Serialize(predictor.Settings, Foundation.JsonFormats.Pretty) + "\n");
        }
        catch
        {
            loaded.Dispose();
            throw;
        }
        return new PredictionWorkflow(loaded, predictor, inputs, Path.GetFullPath(output), maxPixels);
    }

    /// <summary>
    /// A model file ready to predict: the loaded model (dispose it when done) and its predictor, with the same settings,
    /// checks and errors as <see cref="Open"/> (used by <c>segsharp serve</c> too).
    /// </summary>
    public static (IDisposable Model, FolderPredictor Predictor) OpenPredictor(string model, PredictionOptions? options = null)
    {
        options ??= new PredictionOptions();
        options.Check();
        return IsOnnx(model) ? OpenOnnx(model, options) : OpenCheckpoint(model, options);
    }

    private sealed record Inputs(IReadOnlyList<string> ToPredict, int Done);

    /// <summary>What to predict: every file, or (resume) those without both outputs; existing outputs are refused unless told.</summary>
    private static Inputs Select(IReadOnlyList<string> files, string output, bool overwrite, bool resume)
    {
        var names = FolderPredictor.OutputNames(files);
        var todo = resume ? files.Where(f => !FolderPredictor.Finished(output, names[f])).ToList() : files;
        var existing = overwrite || resume ? Array.Empty<string>() : FolderPredictor.ExistingOutputs(files, output);
        if (existing.Count > 0)
            throw new SegSharpException($"Output '{existing[0]}' exists{(existing.Count > 1 ? $" (and {existing.Count - 1} more)" : "")}; " +
                "pass --resume to keep finished outputs and predict the rest, --overwrite to replace them, or choose another --output.");
        return new Inputs(todo, files.Count - todo.Count);
    }

    /// <summary>Whether <paramref name="model"/> names an ONNX file (by extension) rather than a checkpoint.</summary>
    public static bool IsOnnx(string model) => Path.GetExtension(model).Equals(".onnx", StringComparison.OrdinalIgnoreCase);

    private static (IDisposable, FolderPredictor) OpenCheckpoint(string checkpoint, PredictionOptions options)
    {
        TorchRuntime.ConfigureThreads(options.Threads);
        var trained = TrainedModel.Load(checkpoint);
        try
        {
            var (tile, tileOverlap, flip, scales) = Settings(trained.Config.Evaluation, trained.Model.Stride, options);
            trained.Model.ComputeType = ComputePrecision.Of(options.Precision ?? trained.Config.Evaluation.Precision);
            string layout = ChannelsLast.Apply(trained.Model, options.MemoryFormat ?? trained.Config.Evaluation.MemoryFormat);
            return (trained, FolderPredictor.ForCheckpoint(trained, tile, tileOverlap, flip, options.Threads, scales, layout));
        }
        catch
        {
            trained.Dispose();
            throw;
        }
    }

    private static (IDisposable, FolderPredictor) OpenOnnx(string path, PredictionOptions options)
    {
        if (options.Precision is InferencePrecision.Bfloat16)
            throw new SegSharpException($"--precision bfloat16 applies to checkpoints; the ONNX model '{path}' runs in float32 under ONNX Runtime. " +
                "Drop --precision, or predict with the .ckpt.");
        if (options.MemoryFormat is MemoryFormat.ChannelsLast or MemoryFormat.Contiguous)
            throw new SegSharpException($"--memory-format applies to checkpoints; ONNX Runtime lays out the ONNX model '{path}' itself " +
                "(--graph-optimization all picks this CPU's layouts). Drop --memory-format, or predict with the .ckpt.");
        var model = OnnxModel.Load(path, options.Threads, optimization: options.GraphOptimization);
        try
        {
            var (tile, tileOverlap, flip, scales) = Settings(model.Evaluation, model.Card.Stride, options);
            return (model, FolderPredictor.ForOnnx(model, tile, tileOverlap, flip, options.Threads, scales));
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Tile size, overlap and test-time augmentation to predict with: options given win over the model's evaluation settings
    /// (flip TTA is on if either asks), and tile and overlap are checked against the model's stride.
    /// </summary>
    private static (int Tile, double Overlap, bool FlipTta, IReadOnlyList<double> Scales) Settings(EvaluationConfig settings, int stride,
        PredictionOptions options)
    {
        int tile = options.TileSize ?? settings.TileSize;
        double tileOverlap = options.Overlap ?? settings.TileOverlap;
        Tiling.Check(tile, tileOverlap, "--tile", "--overlap", stride);
        return (tile, tileOverlap, options.FlipTta || settings.FlipTta, options.Scales ?? settings.TtaScales);
    }

    /// <summary>
    /// Predicts the files one by one; each result says where its mask went or why the file was skipped. Cancelling
    /// <paramref name="stop"/> ends the sequence after the image in hand is written (then <c>resume</c> finishes the rest).
    /// </summary>
    public IEnumerable<PredictionResult> Run(CancellationToken stop = default) => _predictor.Run(Files, Output, _maxPixels, stop);

    public void Dispose() => _model.Dispose();
}
