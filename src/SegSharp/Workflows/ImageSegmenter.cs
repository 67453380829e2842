using SegSharp.Configuration;
using SegSharp.Data;
using SegSharp.Foundation;
using SegSharp.Inference;
using SegSharp.Models;

namespace SegSharp.Workflows;

/// <summary>
/// One model file answering one image at a time from memory, for a service (<c>segsharp serve</c>): image bytes in,
/// labels out, as <c>predict</c> computes them (same decoding, preprocessing, tiling and decision). Safe to call from
/// several threads: ONNX Runtime sessions run concurrently; a checkpoint's libtorch model runs one image at a time.
/// </summary>
public sealed class ImageSegmenter : IDisposable
{
    private readonly IDisposable _model;
    private readonly FolderPredictor _predictor;
    private readonly Lock? _torch;

    public ImageSegmenter(string model, int threads = 0, long maxPixels = ImageFiles.DefaultMaxPixels)
    {
        if (maxPixels < 1) throw new SegSharpException($"--max-pixels {maxPixels} is not valid; give a positive number of pixels.");
        (_model, _predictor) = PredictionWorkflow.OpenPredictor(model, new PredictionOptions { Threads = threads });
        _torch = PredictionWorkflow.IsOnnx(model) ? null : new Lock();
        Path = System.IO.Path.GetFullPath(model);
        MaxPixels = maxPixels;
    }

    public string Path { get; }
    public long MaxPixels { get; }
    public ModelCard Card => _predictor.Card;

    /// <summary>One image's labels: class indices, or a multilabel model's <see cref="LabelBits"/>.</summary>
    public sealed record Segmentation(int[] Labels, int Height, int Width, IReadOnlyList<string> ClassNames, bool MultiLabel)
    {
        /// <summary>Pixels per class (multilabel: pixels where the class is present, so they may add up past the image).</summary>
        public IReadOnlyList<long> ClassPixels() => LabelBits.ClassPixels(Labels, ClassNames.Count, MultiLabel);
    }

    /// <summary>Segments an encoded image (PNG, JPEG, BMP, TIFF); bad bytes are a <see cref="SegSharpException"/> naming <paramref name="name"/>.</summary>
    public Segmentation Segment(byte[] image, string name)
    {
        var (pixels, height, width) = ImageFiles.DecodeImage(image, name, Card.InputChannels, maxPixels: MaxPixels, expected: ImageFiles.ModelChannels);
        int[] labels;
        if (_torch is null) labels = _predictor.Labels(pixels, height, width);
        else
        {
            lock (_torch) labels = _predictor.Labels(pixels, height, width);
        }
        return new Segmentation(labels, height, width, Card.Classes.Select(c => c.Name).ToList(), Card.Decision.MultiLabel);
    }

    /// <summary>
    /// The mask as PNG: the class-index palette PNG <c>predict</c> writes, or for multilabel models one class's binary mask
    /// (255 present), named by <paramref name="className"/>.
    /// </summary>
    public byte[] MaskPng(Segmentation segmentation, string? className = null)
    {
        if (!segmentation.MultiLabel)
            return IndexedPng.Encode(segmentation.Labels.Select(v => (byte)v).ToArray(), segmentation.Height, segmentation.Width,
                Card.Classes.Select(c => c.Color.Select(v => (byte)v).ToArray()).ToList());
        int index = segmentation.ClassNames.ToList().IndexOf(className ?? "");
        if (index < 0)
            throw new SegSharpException($"A multilabel model's mask is one class at a time: ask for ?class=NAME with one of " +
                $"{string.Join(", ", segmentation.ClassNames)}, or for JSON.");
        return ImageFiles.EncodeGray(segmentation.Labels.Select(v => LabelBits.Has(v, index) ? 255 : 0).ToArray(), segmentation.Height,
            segmentation.Width);
    }

    /// <summary>What <c>GET /model</c> answers: enough for a client to call <c>POST /predict</c> and read its answer.</summary>
    public object Describe() => new
    {
        model = OptionNames<ModelKind>.Name(Card.Model.Kind),
        encoder = Card.Model.HasEncoder ? OptionNames<EncoderKind>.Name(Card.Model.Encoder) : null,
        file = System.IO.Path.GetFileName(Path),
        engine = _torch is null ? "onnxruntime" : "libtorch",
        task = OptionNames<SegmentationTask>.Name(Card.Task),
        threshold = Card.Decision.MultiLabel ? Card.Threshold : (double?)null,
        input_channels = Card.InputChannels,
        input_policy = OptionNames<InputPolicy>.Name(Card.Model.InputPolicy),
        stride = Card.Stride,
        max_pixels = MaxPixels,
        trained_on = Card.TrainedOn,
        classes = Card.Classes.Select((c, i) => new { index = i, name = c.Name, color = c.Color }),
        settings = _predictor.Settings,
    };

    public void Dispose() => _model.Dispose();
}
