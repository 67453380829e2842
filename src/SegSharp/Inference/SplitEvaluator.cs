using SegSharp.Configuration;
using SegSharp.Data;
using SegSharp.Evaluation;
using SegSharp.Losses;
using SegSharp.Models;
using SegSharp.Transforms;
using static TorchSharp.torch;

namespace SegSharp.Inference;

/// <summary>
/// Evaluates a model on a dataset split through the <see cref="TiledPredictor"/> (libtorch) or the
/// <see cref="OnnxTiledPredictor"/> (ONNX Runtime), with the tiling and flip TTA of the evaluation settings, and draws
/// panels for the first images and the worst ones by IoU. Both engines go through the same metrics, panels and report.
/// </summary>
public static class SplitEvaluator
{
    public static EvaluatedSplit Run(SegmentationModel model, ClassDecision decision, ISegmentationDataset split, string splitName,
        TransformPipeline transforms, EvaluationConfig settings, ISegmentationLoss? loss, int batchSize, int workers)
    {
        model.ComputeType = ComputePrecision.Of(settings.Precision);
        Tiling.Check(settings.TileSize, settings.TileOverlap, "evaluation.tile_size", "evaluation.tile_overlap", model.Stride);
        var predictor = new TiledPredictor(model, settings.TileSize, settings.TileOverlap, settings.FlipTta, settings.MaxWholePixels, decision)
        {
            Scales = settings.TtaScales,
        };
        return Run(model, predictor.Logits, predictor.Probabilities, decision, split, splitName, transforms, settings, loss, batchSize, workers,
            ComputePrecision.Resolve(settings.Precision));
    }

    /// <summary>The same evaluation through ONNX Runtime (float32): libtorch only holds the batches and the metrics.</summary>
    public static EvaluatedSplit Run(OnnxModel model, ISegmentationDataset split, string splitName, TransformPipeline transforms,
        EvaluationConfig settings, int workers)
    {
        Tiling.Check(settings.TileSize, settings.TileOverlap, "evaluation.tile_size", "evaluation.tile_overlap", model.Card.Stride);
        var predictor = new OnnxTiledPredictor(model, settings.TileSize, settings.TileOverlap, settings.FlipTta, settings.MaxWholePixels)
        {
            Scales = settings.TtaScales,
        };
        Tensor Probabilities(Tensor images)
        {
            int n = (int)images.shape[0], channels = (int)images.shape[1], height = (int)images.shape[2], width = (int)images.shape[3];
            var pixels = images.contiguous().cpu().data<float>().ToArray();
            int size = channels * height * width;
            var each = Enumerable.Range(0, n)
                .Select(i => predictor.Probabilities(pixels.AsSpan(i * size, size).ToArray(), channels, height, width)).SelectMany(p => p).ToArray();
            return tensor(each, new long[] { n, model.Card.ClassCount, height, width });
        }
        Tensor Logits(Tensor images)
        {
            using var scope = NewDisposeScope();
            return model.Card.Decision.Logits(Probabilities(images)).MoveToOuterDisposeScope();
        }
        return Run(null, Logits, Probabilities, model.Card.Decision, split, splitName, transforms, settings, loss: null, batchSize: 1, workers,
            "float32 (ONNX Runtime)");
    }

    private static EvaluatedSplit Run(SegmentationModel? model, Func<Tensor, Tensor> logits, Func<Tensor, Tensor> probabilities,
        ClassDecision decision, ISegmentationDataset split, string splitName, TransformPipeline transforms, EvaluationConfig settings,
        ISegmentationLoss? loss, int batchSize, int workers, string precision)
    {
        var description = split.Description;
        var loader = new BatchLoader(split, transforms, batchSize, 0, shuffle: false, workers, Math.Max(2, workers),
            batchSizeKey: "train.val_batch_size (evaluate --set train.val_batch_size=1)");
        var names = description.Classes.Select(c => c.Name).ToList();
        var result = Validator.Run(model, loader, loss, names, description.IgnoreIndex, logits, decision: decision);
        var chosen = result.Images.Take(settings.Samples).Select(s => (PanelKind.Sample, s))
            .Concat(result.Images.OrderBy(s => s.MeanIoU).ThenBy(s => s.Index).Take(settings.Worst).Select(s => (PanelKind.Worst, s))).ToList();
        var panels = new List<(PanelKind, ImageScore, byte[])>();
        foreach (var (kind, score) in chosen)
        {
            var sample = transforms.Apply(split.Load(score.Index), new Runtime.SeededRandom(0));
            using var scope = NewDisposeScope();
            var input = tensor(sample.Image, new long[] { 1, sample.Channels, sample.Height, sample.Width });
            var prediction = decision.Labels(probabilities(input)).to(int32).cpu().data<int>().ToArray();
            using var panel = OverlayRenderer.Panel(sample.Image, sample.Channels, sample.Height, sample.Width, sample.Mask, prediction, description);
            panels.Add((kind, score, OverlayRenderer.Png(panel)));
        }
        return new EvaluatedSplit(splitName, result, description, panels, precision) { FlipTta = settings.FlipTta, TtaScales = settings.TtaScales };
    }
}
