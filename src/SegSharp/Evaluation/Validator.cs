using System.Diagnostics;
using SegSharp.Data;
using SegSharp.Losses;
using SegSharp.Models;
using static TorchSharp.torch;

namespace SegSharp.Evaluation;

/// <summary>
/// Runs a model over a loader in eval mode without gradients and accumulates one confusion matrix (per-class counts for
/// multilabel models). With a collective of
/// several processes, each validates every Size-th batch and the integer confusion matrix is summed over all of them, so
/// every sample counts exactly once and the metrics equal one process's.
/// </summary>
public static class Validator
{
    /// <param name="predict">Logits for an image batch; defaults to the model's forward pass.</param>
    /// <param name="model">The libtorch model (put in evaluation mode meanwhile); null when <paramref name="predict"/> runs another engine.</param>
    /// <param name="decision">How logits become labels (multiclass argmax when null).</param>
    public static ValidationResult Run(SegmentationModel? model, BatchLoader loader, ISegmentationLoss? loss,
        IReadOnlyList<string> classNames, long ignoreIndex, Func<Tensor, Tensor>? predict = null, Runtime.ICollective? collective = null,
        ClassDecision? decision = null)
    {
        collective ??= Runtime.SingleProcess.Instance;
        decision ??= ClassDecision.Multiclass;
        if (model is null && predict is null) throw new ArgumentNullException(nameof(predict), "a model or a predict function");
        bool wasTraining = model?.training ?? false;
        model?.eval();
        using var noGrad = no_grad();
        IClassCounts Counts() => decision.MultiLabel ? new LabelCounts(classNames.Count) : new ConfusionMatrix(classNames.Count, ignoreIndex);
        using var confusion = Counts();
        var images = new List<ImageScore>();
        double lossSum = 0;
        long lossImages = 0;
        var clock = Stopwatch.StartNew();
        int position = 0;
        var share = Enumerable.Range(0, loader.BatchesPerEpoch).Where(b => b % collective.Size == collective.Rank).ToList();
        foreach (var batch in loader.Batches(0, share))
        {
            using var guard = Runtime.NativeScalarGuard.Enter();
            using var scope = NewDisposeScope();
            var input = batch.ImageTensor();
            var target = batch.MaskTensor();
            var logits = predict is null ? model!.forward(input) : predict(input);
            if (loss is not null)
            {
                lossSum += loss.Compute(logits, target).item<float>() * batch.Count;
                lossImages += batch.Count;
            }
            var prediction = decision.LabelsOfLogits(logits);
            confusion.Add(prediction, target);
            for (int i = 0; i < batch.Count; i++)
            {
                using var single = Counts();
                single.Add(prediction[i], target[i]);
                var m = single.Metrics(classNames);
                images.Add(new ImageScore(batch.Names[i], position++, m.MeanIoU, m.MeanDice));
            }
        }
        double seconds = clock.Elapsed.TotalSeconds;
        if (wasTraining) model!.train();
        var metrics = confusion.Metrics(classNames);
        if (collective.Size > 1) (metrics, lossSum, lossImages) = SumOverProcesses(confusion, lossSum, lossImages, classNames, collective);
        return new ValidationResult(metrics, lossImages > 0 ? lossSum / lossImages : null, images, seconds > 0 ? images.Count / seconds : 0);
    }

    private static (SegmentationMetrics, double, long) SumOverProcesses(IClassCounts confusion, double lossSum, long lossImages,
        IReadOnlyList<string> classNames, Runtime.ICollective collective)
    {
        var counts = confusion.ToArray();
        int cells = counts.Length;
        var flat = new long[cells + 1];
        Buffer.BlockCopy(counts, 0, flat, 0, cells * sizeof(long));
        flat[^1] = lossImages;
        collective.AllReduceSum(flat);
        Buffer.BlockCopy(flat, 0, counts, 0, cells * sizeof(long));
        var loss = new[] { lossSum };
        collective.AllReduceSum(loss);
        return (confusion.Metrics(classNames, counts), loss[0], flat[^1]);
    }
}
