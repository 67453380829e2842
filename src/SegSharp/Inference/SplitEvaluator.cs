using SegSharp.Configuration;
using SegSharp.Data;
using SegSharp.Evaluation;
using SegSharp.Losses;
using SegSharp.Models;
using SegSharp.Transforms;
using static TorchSharp.torch;

namespace SegSharp.Inference;

/// <summary>
/// Evaluates a model on a dataset split through the <see cref="TiledPredictor"/> (with the tiling, flip TTA and
/// precision of the evaluation settings) and draws panels for the first images and the worst ones by IoU.
/// </summary>
public static class SplitEvaluator
{
    public static EvaluationOutcome Run(SegmentationModel model, ISegmentationDataset split, string splitName, TransformPipeline transforms,
        EvaluationConfig settings, ISegmentationLoss? loss, int batchSize, int workers)
    {
        var description = split.Description;
        model.ComputeType = ComputePrecision.Of(settings.Precision);
        Tiling.Check(settings.TileSize, settings.TileOverlap, "evaluation.tile_size", "evaluation.tile_overlap", model.Stride);
        var predictor = new TiledPredictor(model, settings.TileSize, settings.TileOverlap, settings.FlipTta, settings.MaxWholePixels);
        var loader = new BatchLoader(split, transforms, batchSize, 0, shuffle: false, workers, Math.Max(2, workers),
            batchSizeKey: "train.val_batch_size (evaluate --set train.val_batch_size=1)");
        var names = description.Classes.Select(c => c.Name).ToList();
        var result = Validator.Run(model, loader, loss, names, description.IgnoreIndex, predictor.LogProbabilities);
        var chosen = result.Images.Take(settings.Samples).Select(s => ("sample", s))
            .Concat(result.Images.OrderBy(s => s.MeanIoU).ThenBy(s => s.Index).Take(settings.Worst).Select(s => ("worst", s))).ToList();
        var panels = new List<(string, ImageScore, byte[])>();
        foreach (var (kind, score) in chosen)
        {
            var sample = transforms.Apply(split.Load(score.Index), new Runtime.SeededRandom(0));
            using var scope = NewDisposeScope();
            var input = tensor(sample.Image, new long[] { 1, sample.Channels, sample.Height, sample.Width });
            var prediction = predictor.Probabilities(input).argmax(1).to(int32).cpu().data<int>().ToArray();
            using var panel = OverlayRenderer.Panel(sample.Image, sample.Channels, sample.Height, sample.Width, sample.Mask, prediction, description);
            panels.Add((kind, score, OverlayRenderer.Png(panel)));
        }
        return new EvaluationOutcome(splitName, result, description, panels, ComputePrecision.Resolve(settings.Precision));
    }
}
