using System.Diagnostics;
using System.Globalization;
using Google.Protobuf;
using SegSharp.Data;
using SegSharp.Foundation;
using SegSharp.Inference;
using SegSharp.Models;
using SegSharp.Transforms;

namespace SegSharp.Workflows;

/// <summary>How the INT8 file compares with the float one on the validation split, and what was quantised.</summary>
public sealed record QuantizationReport(string Model, string Output, string Dataset, int CalibrationImages, int QuantizedConvolutions,
    int FloatConvolutions, double FloatMeanIou, double Int8MeanIou, double FloatMilliseconds, double Int8Milliseconds, double MaxDropPoints, bool Passed)
{
    /// <summary>mIoU lost, in points (hundredths): positive when INT8 scores lower.</summary>
    public double DropPoints => (FloatMeanIou - Int8MeanIou) * 100;

    public double SpeedUp => FloatMilliseconds / Int8Milliseconds;

    /// <summary>The gate's line: both models' mIoU and latency, the change and the limit.</summary>
    public string Summary => string.Create(CultureInfo.InvariantCulture,
        $"mIoU float {FloatMeanIou:F4}, int8 {Int8MeanIou:F4} ({Math.Round(-DropPoints, 2):+0.00;-0.00;0.00} points, limit -{MaxDropPoints:0.##}); latency " +
        $"float {FloatMilliseconds:F1} ms, int8 {Int8Milliseconds:F1} ms per image ({SpeedUp:F2}x)");
}

/// <summary>
/// <c>segsharp quantize</c>: static INT8 quantisation of an exported ONNX model (<see cref="OnnxQuantization"/>), calibrated by
/// ONNX Runtime runs over images of a dataset's training split, then gated: the float and INT8 files are evaluated on the
/// validation split, and the INT8 file is written only if its macro mIoU is at most <c>maxDrop</c> points lower. A report
/// (<c>OUTPUT.quantization.json</c>) goes beside it. Nothing is written on failure.
/// </summary>
public static class QuantizationWorkflow
{
    public const double DefaultMaxDrop = 1.0;
    public const int DefaultImages = 64;

    /// <summary>Calibration images are cropped to at most this edge (centre crop, whole strides), bounding the memory of all activations at once.</summary>
    public const int MaxCalibrationEdge = 1024;

    /// <param name="model">A float ONNX model from <c>segsharp export --format onnx</c>.</param>
    /// <param name="calibration">A dataset YAML with the model's classes: training images calibrate, the validation split gates.</param>
    /// <param name="maxDrop">The most macro-mIoU points (hundredths) the INT8 model may lose against the float one.</param>
    /// <param name="progress">Reports calibration images done.</param>
    public static QuantizationReport Run(string model, string calibration, string output, int images = DefaultImages, double maxDrop = DefaultMaxDrop,
        int threads = 0, bool overwrite = false, IProgress<int>? progress = null)
    {
        Check(model, output, images, maxDrop);
        if (File.Exists(output) && !overwrite)
            throw new SegSharpException($"Output '{output}' exists; pass --overwrite to replace it, or choose another --output.");
        string target = Path.GetFullPath(output);
        string work = Path.Combine(Path.GetDirectoryName(target)!, $".{Path.GetFileName(target)}.{Environment.ProcessId}.work");
        Directory.CreateDirectory(work);
        try
        {
            ModelCard card;
            string dataset;
            OnnxQuantization.Plan plan;
            int calibrated;
            using (var floatModel = OnnxModel.Load(model, threads))
            {
                card = floatModel.Card;
                var proto = Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(model));
                if (proto.MetadataProps.Any(p => p.Key == OnnxQuantization.MetadataKey))
                    throw new SegSharpException($"Model '{model}' is quantised already; quantise the float model segsharp export wrote.");
                var data = EvaluationWorkflow.OpenDataset(card, null, calibration, "calibrate");
                dataset = data.Description.Name;
                plan = OnnxQuantization.Prepare(proto);
                calibrated = Calibrate(plan, card, DatasetSplit.Create(data).Train, images, threads, progress, out var ranges);
                var quantized = OnnxQuantization.Quantize(plan, ranges);
                quantized.MetadataProps.Add(new Onnx.StringStringEntryProto
                {
                    Key = OnnxQuantization.MetadataKey,
                    Value = System.Text.Json.JsonSerializer.Serialize(new
                    {
                        format = "QDQ", activations = "uint8 asymmetric, min/max calibrated", weights = "int8 symmetric per output channel",
                        calibration = dataset, calibration_images = calibrated, quantized_convolutions = plan.Convolutions.Count,
                        float_convolutions = plan.FloatConvolutions, source = Path.GetFileName(model),
                    }),
                });
                AtomicFile.Write(Path.Combine(work, "candidate.onnx"), stream => quantized.WriteTo(stream));
            }
            var (floatIoU, floatMs) = Score(model, calibration, Path.Combine(work, "float"), threads);
            var (int8IoU, int8Ms) = Score(Path.Combine(work, "candidate.onnx"), calibration, Path.Combine(work, "int8"), threads);
            var report = new QuantizationReport(Path.GetFullPath(model), target, dataset, calibrated, plan.Convolutions.Count, plan.FloatConvolutions,
                floatIoU, int8IoU, floatMs, int8Ms, maxDrop, (floatIoU - int8IoU) * 100 <= maxDrop + 1e-9);
            if (!report.Passed)
                throw new SegSharpException($"quantize: {report.Summary}: the INT8 model loses more than --max-drop " +
                    $"{maxDrop.ToString(CultureInfo.InvariantCulture)} points, so it was not written. " +
                    "Calibrate on more images (--images), or accept the loss with a larger --max-drop.");
            AtomicFile.WriteAllBytes(target, File.ReadAllBytes(Path.Combine(work, "candidate.onnx")));
            AtomicFile.WriteAllText(ReportPath(target), System.Text.Json.JsonSerializer.Serialize(report, JsonFormats.Pretty) + "\n");
            return report;
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>Where the report of an INT8 file goes: beside it, <c>NAME.quantization.json</c>.</summary>
    public static string ReportPath(string output) => Path.ChangeExtension(output, ".quantization.json");

    private static void Check(string model, string output, int images, double maxDrop)
    {
        if (!PredictionWorkflow.IsOnnx(model))
            throw new SegSharpException($"quantize takes an ONNX model, not '{model}'; export it first: segsharp export --checkpoint {model} --format onnx " +
                "--output model.onnx.");
        if (!PredictionWorkflow.IsOnnx(output))
            throw new SegSharpException($"--output '{output}' must end in .onnx (predict and evaluate tell models apart by extension).");
        if (Path.GetFullPath(output) == Path.GetFullPath(model))
            throw new SegSharpException($"--output '{output}' is the float model itself; write the INT8 model to another file, such as model.int8.onnx.");
        if (images is < 1 or > 100_000) throw new SegSharpException($"--images {images} is not valid; give 1 to 100000 calibration images (64 is usual).");
        if (!(maxDrop >= 0 && maxDrop <= 100))
            throw new SegSharpException($"--max-drop {maxDrop.ToString(CultureInfo.InvariantCulture)} is not valid; give mIoU points from 0 to 100 " +
                "(1 = 0.01 mIoU).");
    }

    /// <summary>Runs up to <paramref name="count"/> training images, spread evenly over the split, through the calibration.</summary>
    private static int Calibrate(OnnxQuantization.Plan plan, ModelCard card, ISegmentationDataset train, int count, int threads, IProgress<int>? progress,
        out IReadOnlyDictionary<string, (float Min, float Max)> ranges)
    {
        if (train.Count == 0) throw new SegSharpException($"The calibration dataset's training split is empty; quantize calibrates on training images.");
        using var calibration = new ActivationCalibration(plan, card.InputChannels, threads);
        var preprocessing = TransformPipeline.Create(card.Preprocessing);
        int n = Math.Min(count, train.Count);
        for (int i = 0; i < n; i++)
        {
            var sample = preprocessing.Apply(train.Load((int)((long)i * train.Count / n)), new Runtime.SeededRandom(0));
            int stride = card.Stride;
            int h = Math.Min(sample.Height, Math.Max(stride, MaxCalibrationEdge / stride * stride));
            int w = Math.Min(sample.Width, Math.Max(stride, MaxCalibrationEdge / stride * stride));
            var image = h == sample.Height && w == sample.Width ? sample.Image
                : Resampling.Window(sample.Image, sample.Channels, sample.Height, sample.Width, (sample.Height - h) / 2, (sample.Width - w) / 2, h, w, 0f);
            calibration.Add(image, h, w);
            progress?.Report(i + 1);
        }
        ranges = calibration.Ranges;
        return n;
    }

    /// <summary>The model's validation mIoU (its own evaluation settings) and its median latency on the first validation image.</summary>
    private static (double MeanIoU, double Milliseconds) Score(string model, string dataset, string folder, int threads)
    {
        var evaluation = EvaluationWorkflow.Run(model, dataset, EvaluationSplit.Validation, folder);
        using var onnx = OnnxModel.Load(model, threads);
        var data = EvaluationWorkflow.OpenDataset(onnx.Card, null, dataset);
        var sample = TransformPipeline.Create(onnx.Card.Preprocessing).Apply(DatasetSplit.Create(data).Validation.Load(0), new Runtime.SeededRandom(0));
        onnx.Logits(sample.Image, 1, sample.Height, sample.Width);
        var times = new List<double>();
        var total = Stopwatch.StartNew();
        while (times.Count < 5 || (times.Count < 30 && total.Elapsed.TotalSeconds < 3))
        {
            var watch = Stopwatch.StartNew();
            onnx.Logits(sample.Image, 1, sample.Height, sample.Width);
            times.Add(watch.Elapsed.TotalMilliseconds);
        }
        times.Sort();
        return (evaluation.Outcome.Result.Metrics.MeanIoU, times[times.Count / 2]);
    }
}
