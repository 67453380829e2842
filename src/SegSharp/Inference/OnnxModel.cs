using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using SegSharp.Configuration;
using SegSharp.Foundation;
using SegSharp.Models;

namespace SegSharp.Inference;

/// <summary>
/// A model exported by <c>segsharp export --format onnx</c>, run by ONNX Runtime on the CPU: no libtorch is
/// loaded. Its card and evaluation settings come from the file's metadata, so it predicts on its own, like a
/// checkpoint does.
/// </summary>
public sealed class OnnxModel : IDisposable
{
    private readonly InferenceSession _session;
    private readonly RunOptions _run = new();
    private static readonly string[] Outputs = { "logits" };

    private OnnxModel(InferenceSession session, ModelCard card, EvaluationConfig evaluation, string path)
    {
        _session = session;
        Card = card;
        Evaluation = evaluation;
        Path = path;
    }

    public ModelCard Card { get; }

    /// <summary>The evaluation settings the model was trained with (tile size, overlap, flip TTA, whole-image limit).</summary>
    public EvaluationConfig Evaluation { get; }
    public string Path { get; }

    /// <summary>The optimised graph this session came from or wrote (<see cref="OptimizedModelCache"/>); null without a cache.</summary>
    public string? CacheFile { get; private init; }

    /// <summary>The graph optimisation level the session was set up with.</summary>
    public GraphOptimization Optimization { get; private init; }

    /// <summary>Whether the session was created from an existing cache file (no optimisation done this time).</summary>
    public bool CacheHit { get; private init; }

    /// <param name="threads">ONNX Runtime's intra-op threads; 0 = its default (one per physical core).</param>
    /// <param name="cache">Keep ORT's optimised graph next to the model and start from it next time (<see cref="OptimizedModelCache"/>).</param>
    /// <param name="optimization">How much ORT optimises the graph (none: no cache either, there is nothing to keep).</param>
    public static OnnxModel Load(string path, int threads = 0, bool cache = true, GraphOptimization optimization = GraphOptimization.All)
    {
        if (!File.Exists(path)) throw new SegSharpException($"Model '{path}' does not exist. Write one with: segsharp export --format onnx.");
        using var options = new SessionOptions
        {
            GraphOptimizationLevel = optimization switch
            {
                GraphOptimization.All => GraphOptimizationLevel.ORT_ENABLE_ALL,
                GraphOptimization.Extended => GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
                GraphOptimization.Basic => GraphOptimizationLevel.ORT_ENABLE_BASIC,
                GraphOptimization.None => GraphOptimizationLevel.ORT_DISABLE_ALL,
            },
            IntraOpNumThreads = threads, ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
        };
        options.LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR;
        InferenceSession? session;
        string? cacheFile = null;
        bool hit = false;
        if (cache && optimization != GraphOptimization.None) (session, cacheFile, hit) = OptimizedModelCache.Open(path, options, Open, optimization);
        else session = Open(path, options);
        try
        {
            var metadata = session.ModelMetadata.CustomMetadataMap;
            if (hit && !metadata.ContainsKey(OnnxExport.MetadataKeys.ModelCard))
            {
                // An optimised graph that lost the model's metadata is no use: load the model itself.
                session.Dispose();
                session = null;
                return Load(path, threads, cache: false, optimization);
            }
            if (!metadata.TryGetValue(OnnxExport.MetadataKeys.ModelCard, out var cardJson) || !session.OutputMetadata.ContainsKey("logits"))
                throw new SegSharpException($"Model '{path}' was not written by segsharp export (no {OnnxExport.MetadataKeys.ModelCard} metadata or " +
                    "'logits' output); SegSharp predicts only with ONNX files it exported, which carry their classes.");
            var card = Metadata<ModelCard>(path, OnnxExport.MetadataKeys.ModelCard, cardJson);
            card.Check(path);
            card = card.Upgraded();
            var evaluation = metadata.TryGetValue(OnnxExport.MetadataKeys.Evaluation, out var json)
                ? Metadata<EvaluationConfig>(path, OnnxExport.MetadataKeys.Evaluation, json)
                : throw new SegSharpException($"Model '{path}' lacks its {OnnxExport.MetadataKeys.Evaluation} metadata; export it again.");
            CheckSignature(session, card, path);
            var model = new OnnxModel(session, card, evaluation, System.IO.Path.GetFullPath(path))
            {
                CacheFile = cacheFile, CacheHit = hit, Optimization = optimization,
            };
            session = null;
            return model;
        }
        finally
        {
            session?.Dispose();
        }
    }

    /// <summary>A metadata entry as its record; malformed JSON (a hand edit) is one line naming the entry.</summary>
    private static T Metadata<T>(string path, string key, string json)
    {
        try
        {
            return JsonSerializer.Deserialize<T>(json, JsonFormats.Compact) ?? throw new JsonException("null");
        }
        catch (Exception e) when (e is JsonException or NotSupportedException or InvalidOperationException)
        {
            throw new SegSharpException($"Model '{path}' has malformed {key} metadata ({FirstLine(e.Message)}); export it again with segsharp export " +
                "--format onnx.");
        }
    }

    /// <summary>
    /// The graph's declared input and output against the card: float32 'image' [batch, channels, height, width] with the
    /// card's channels and free height and width (SegSharp feeds any size, tiles included), float32 'logits' with the
    /// card's classes. A file edited for deployment (a fixed size, another channel or class count) is refused here with the
    /// mismatch named, not by a trace from the first image.
    /// </summary>
    private static void CheckSignature(InferenceSession session, ModelCard card, string path)
    {
        string Fail(string what) => throw new SegSharpException($"Model '{path}' {what}; export it again with segsharp export --format onnx " +
            "(it writes dynamic batch, height and width).");
        if (!session.InputMetadata.TryGetValue("image", out var image) || image.ElementType != typeof(float) || image.Dimensions.Length != 4)
            Fail("has no float32 input 'image' of rank 4 [batch, channels, height, width]");
        var inputs = image!.Dimensions;
        if (inputs[1] > 0 && inputs[1] != card.InputChannels)
            Fail($"takes {inputs[1]} input channels where its model card says {card.InputChannels}");
        if (inputs[2] > 0 || inputs[3] > 0)
            Fail($"has a fixed input size ({Dim(inputs[3])}x{Dim(inputs[2])}); SegSharp feeds images and tiles of any size");
        var logits = session.OutputMetadata["logits"];
        if (logits.ElementType != typeof(float) || logits.Dimensions.Length != 4)
            Fail("has no float32 output 'logits' of rank 4 [batch, classes, height, width]");
        if (logits.Dimensions[1] > 0 && logits.Dimensions[1] != card.ClassCount)
            Fail($"outputs {logits.Dimensions[1]} classes where its model card names {card.ClassCount}");
    }

    private static string Dim(int value) => value > 0 ? value.ToString(System.Globalization.CultureInfo.InvariantCulture) : "any";

    private static InferenceSession Open(string path, SessionOptions options)
    {
        try
        {
            return new InferenceSession(path, options);
        }
        catch (OnnxRuntimeException e)
        {
            throw new SegSharpException($"Model '{path}' is not a usable ONNX file ({FirstLine(e.Message)}). Export it again with " +
                "segsharp export --format onnx.");
        }
    }

    /// <param name="images">[batch, channels, height, width] float32, preprocessed as the card says.</param>
    /// <returns>Logits [batch, classes, height, width], float32.</returns>
    public float[] Logits(float[] images, int batch, int height, int width)
    {
        var logits = new float[batch * Card.ClassCount * height * width];
        Logits(images, batch, height, width, logits);
        return logits;
    }

    /// <summary>Logits written into <paramref name="logits"/> (its first batch·classes·height·width values): no allocation per call.</summary>
    /// <param name="images">At least batch·channels·height·width values; the first ones are used.</param>
    public void Logits(float[] images, int batch, int height, int width, float[] logits)
    {
        if (Card.Model.InputPolicy == InputPolicy.Strict && (height % Card.Stride != 0 || width % Card.Stride != 0))
            throw new SegSharpException($"Input {width}x{height} is not a multiple of {Card.Stride} (the model's total stride); resize or crop to " +
                $"{RoundUp(width)}x{RoundUp(height)}, or export a model trained with model.input_policy: pad.");
        using var input = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance,
            images.AsMemory(0, batch * Card.InputChannels * height * width), new long[] { batch, Card.InputChannels, height, width });
        using var output = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance,
            logits.AsMemory(0, batch * Card.ClassCount * height * width), new long[] { batch, Card.ClassCount, height, width });
        _session.Run(_run, new[] { "image" }, new[] { input }, Outputs, new[] { output });
    }

    private int RoundUp(int side) => (side + Card.Stride - 1) / Card.Stride * Card.Stride;

    private static string FirstLine(string message) => message.Split('\n')[0].Trim();

    public void Dispose()
    {
        _session.Dispose();
        _run.Dispose();
    }
}
