using SegSharp.Configuration;
using SegSharp.Data;
using SegSharp.Evaluation;
using SegSharp.Models;
using SegSharp.Transforms;
using static TorchSharp.torch;

namespace SegSharp.Inference;

/// <summary>
/// Predicts masks for a file or every image in a folder, one image at a time (the next is decoded while the
/// current one runs), so memory does not grow with the folder. Writes <c>masks/NAME.png</c> (palette PNG: pixel
/// values are class indices, the palette holds the class colours) and <c>overlays/NAME.png</c>. The image gets
/// the validation normalisation but no geometric change: any size goes through the tiled predictor. A file that
/// cannot be read is reported in its result and skipped.
/// </summary>
public sealed class FolderPredictor
{
    private readonly ModelCard _card;
    private readonly Func<float[], int, int, int[]> _classMap;
    private readonly TransformPipeline _preprocessing;
    private readonly IReadOnlyList<ClassInfo> _classes;
    private readonly int _channels;

    /// <summary>Everything it needs comes from the model file: preprocessing, channels, classes and colours.</summary>
    /// <param name="classMap">(preprocessed [channels, height, width] image, height, width) → class index per pixel.</param>
    private FolderPredictor(ModelCard card, Func<float[], int, int, int[]> classMap)
    {
        _card = card;
        _classMap = classMap;
        _preprocessing = TransformPipeline.Create(card.Preprocessing);
        _classes = card.ClassInfos();
        _channels = card.InputChannels;
    }

    /// <summary>The model file's card: classes, colours, task, input channels.</summary>
    public ModelCard Card => _card;

    /// <summary>How the model is run: file, engine, precision, threads, tiling (recorded as prediction.json).</summary>
    public required PredictionSettings Settings { get; init; }

    /// <summary>
    /// Every pixel's label for an image as decoded ([channels, height, width], 0..1): the card's preprocessing, then the
    /// model (tiled and flipped as set up): a class index, or a multilabel model's <see cref="LabelBits"/>.
    /// </summary>
    public int[] Labels(float[] pixels, int height, int width)
    {
        var sample = _preprocessing.Apply(new Sample("image", pixels, new int[height * width], _channels, height, width, _card.IgnoreIndex),
            new Runtime.SeededRandom(0));
        return _classMap(sample.Image, height, width);
    }

    /// <summary>Predicts with a checkpoint's model through libtorch.</summary>
    /// <param name="threads">The libtorch threads set up for it (recorded in <see cref="Settings"/>; 0 = one per core).</param>
    /// <param name="scales">Test-time scales; null = none.</param>
    /// <param name="memoryFormat">The model's layout as <see cref="Models.ChannelsLast.Apply"/> described it, for the record.</param>
    public static FolderPredictor ForCheckpoint(TrainedModel trained, int tileSize, double overlap, bool flipTta, int threads = 0,
        IReadOnlyList<double>? scales = null, string memoryFormat = "contiguous")
    {
        var predictor = new TiledPredictor(trained.Model, tileSize, overlap, flipTta, trained.Config.Evaluation.MaxWholePixels, trained.Card.Decision)
        {
            Scales = scales ?? TestTimeAugmentation.NoScaling,
        };
        int channels = trained.Card.InputChannels;
        return new FolderPredictor(trained.Card, (image, height, width) =>
        {
            using var scope = NewDisposeScope();
            var input = tensor(image, new long[] { 1, channels, height, width });
            return predictor.Labels(input).cpu().data<int>().ToArray();
        })
        {
            Settings = new PredictionSettings(trained.CheckpointPath, "libtorch", Runtime.TorchRuntime.LibTorchVersion,
                trained.Model.ComputeType is null ? "float32" : "bfloat16", threads, tileSize, overlap, flipTta, predictor.Scales, TileBatch: 1)
            {
                MemoryFormat = memoryFormat,
            },
        };
    }

    /// <summary>Predicts with an exported ONNX model through ONNX Runtime; libtorch is never loaded.</summary>
    /// <param name="threads">The ONNX Runtime threads the model was loaded with (recorded in <see cref="Settings"/>; 0 = its default).</param>
    /// <param name="scales">Test-time scales; null = none.</param>
    public static FolderPredictor ForOnnx(OnnxModel model, int tileSize, double overlap, bool flipTta, int threads = 0, IReadOnlyList<double>? scales = null)
    {
        var predictor = new OnnxTiledPredictor(model, tileSize, overlap, flipTta, model.Evaluation.MaxWholePixels)
        {
            Scales = scales ?? TestTimeAugmentation.NoScaling,
        };
        int channels = model.Card.InputChannels;
        return new FolderPredictor(model.Card, (image, height, width) => predictor.ClassMap(image, channels, height, width))
        {
            Settings = new PredictionSettings(model.Path, "onnxruntime", Microsoft.ML.OnnxRuntime.OrtEnv.Instance().GetVersionString(), "float32",
                threads, tileSize, overlap, flipTta, predictor.Scales, predictor.TileBatch)
            {
                GraphOptimization = Foundation.OptionNames<Configuration.GraphOptimization>.Name(model.Optimization), OptimizedCache = model.CacheFile,
            },
        };
    }

    /// <summary>Image files to predict: the file itself, or the folder's images in natural name order.</summary>
    public static IReadOnlyList<string> Inputs(string input)
    {
        if (File.Exists(input)) return new[] { Path.GetFullPath(input) };
        if (!Directory.Exists(input)) throw new SegSharpException($"Input '{input}' is neither a file nor a folder. Pass an image or a folder of images.");
        var files = Directory.EnumerateFiles(input).Where(ImageFiles.IsImage)
            .OrderBy(f => DatasetListing.NaturalKey(Path.GetFileNameWithoutExtension(f)), StringComparer.Ordinal).ToList();
        if (files.Count == 0) throw new SegSharpException($"Folder '{input}' holds no images ({string.Join(", ", ImageFiles.Extensions)}).");
        return files;
    }

    /// <summary>
    /// The output name (without .png) of each input: its stem, or, where two inputs share a stem (a.png and a.tif),
    /// its whole file name (a.png.png, a.tif.png), so no prediction overwrites another.
    /// </summary>
    public static IReadOnlyDictionary<string, string> OutputNames(IReadOnlyList<string> files)
    {
        var shared = files.GroupBy(f => Path.GetFileNameWithoutExtension(f), StringComparer.Ordinal)
            .Where(g => g.Count() > 1).Select(g => g.Key).ToHashSet(StringComparer.Ordinal);
        return files.ToDictionary(f => f, f =>
            shared.Contains(Path.GetFileNameWithoutExtension(f)) ? Path.GetFileName(f) : Path.GetFileNameWithoutExtension(f));
    }

    /// <summary>The files predicting <paramref name="files"/> into <paramref name="output"/> would write that exist already.</summary>
    public static IReadOnlyList<string> ExistingOutputs(IReadOnlyList<string> files, string output) =>
        OutputNames(files).Values.SelectMany(n => Masks(output, n).Append(Path.Combine(output, "overlays", n + ".png"))).Where(File.Exists).ToList();

    /// <summary>
    /// Whether an image named <paramref name="name"/> has its mask (or multilabel masks) and overlay in <paramref name="output"/>
    /// (each written atomically, the overlay last).
    /// </summary>
    public static bool Finished(string output, string name) =>
        Masks(output, name).Any(File.Exists) && File.Exists(Path.Combine(output, "overlays", name + ".png"));

    /// <summary>Where a mask of <paramref name="name"/> may be: masks/name.png, or masks/&lt;class&gt;/name.png for multilabel models.</summary>
    private static IEnumerable<string> Masks(string output, string name)
    {
        string masks = Path.Combine(output, "masks");
        yield return Path.Combine(masks, name + ".png");
        if (!Directory.Exists(masks)) yield break;
        foreach (string folder in Directory.EnumerateDirectories(masks)) yield return Path.Combine(folder, name + ".png");
    }

    /// <param name="maxPixels">An image declaring more pixels is skipped with the reason, before it is decoded.</param>
    /// <param name="stop">Ends the sequence after the image in hand.</param>
    public IEnumerable<PredictionResult> Run(IReadOnlyList<string> files, string output, long maxPixels = ImageFiles.DefaultMaxPixels,
        CancellationToken stop = default)
    {
        var names = OutputNames(files);
        string masks = Path.Combine(output, "masks"), overlays = Path.Combine(output, "overlays");
        Directory.CreateDirectory(masks);
        Directory.CreateDirectory(overlays);
        var palette = _classes.Select(c => c.Color).ToList();
        Task<(float[], int, int)>? next = files.Count > 0
            ? Task.Run(() => ImageFiles.ReadImage(files[0], _channels, maxPixels: maxPixels, expected: ImageFiles.ModelChannels))
            : null;
        for (int i = 0; i < files.Count && !stop.IsCancellationRequested; i++)
        {
            string file = files[i];
            var current = next!;
            // The loop variable is shared by every iteration: the decode task must capture the next file's name, not i.
            string? nextFile = i + 1 < files.Count ? files[i + 1] : null;
            next = nextFile is not null
                ? Task.Run(() => ImageFiles.ReadImage(nextFile, _channels, maxPixels: maxPixels, expected: ImageFiles.ModelChannels))
                : null;
            (float[] Pixels, int Height, int Width) image = default;
            string? error = null;
            try
            {
                image = current.GetAwaiter().GetResult();
            }
            catch (SegSharpException e)
            {
                error = e.Message;
            }
            yield return error is not null
                ? new PredictionResult(file, null, null, error, Array.Empty<long>())
                : PredictOne(file, names[file], image.Pixels!, image.Height, image.Width, masks, overlays, palette);
        }
    }

    private PredictionResult PredictOne(string file, string name, float[] pixels, int height, int width, string masks, string overlays,
        IReadOnlyList<byte[]> palette)
    {
        int[] prediction = Labels(pixels, height, width);
        string maskPath = Path.Combine(masks, name + ".png"), overlayPath = Path.Combine(overlays, name + ".png");
        bool multiLabel = _card.Decision.MultiLabel;
        if (multiLabel)
        {
            // One binary mask per class (255 present, 0 absent) in masks/<class>/.
            for (int c = 0; c < _classes.Count; c++)
            {
                string folder = Path.Combine(masks, _classes[c].Name);
                Directory.CreateDirectory(folder);
                var present = prediction.Select(v => LabelBits.Has(v, c) ? 255 : 0).ToArray();
                ImageFiles.WriteGray(Path.Combine(folder, name + ".png"), present, height, width);
            }
            maskPath = Path.Combine(masks, "<class>", name + ".png");
        }
        else
        {
            IndexedPng.Write(maskPath, prediction.Select(v => (byte)v).ToArray(), height, width, palette);
        }
        OverlayRenderer.SaveOverlay(OverlayRenderer.Display(pixels, _channels, height, width), prediction, _classes, multiLabel, height, width, overlayPath);
        return new PredictionResult(file, maskPath, overlayPath, null, LabelBits.ClassPixels(prediction, _classes.Count, multiLabel));
    }
}
