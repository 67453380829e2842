using System.Diagnostics;
using SegSharp.Data;
using SegSharp.Losses;
using SegSharp.Models;
using static TorchSharp.torch;

namespace SegSharp.Evaluation;

/// <summary>Runs a model over a loader in eval mode without gradients and accumulates one confusion matrix.</summary>
public static class Validator
{
    /// <param name="predict">Logits for an image batch; defaults to the model's forward pass.</param>
    public static ValidationResult Run(SegmentationModel model, BatchLoader loader, ISegmentationLoss? loss,
        IReadOnlyList<string> classNames, long ignoreIndex, Func<Tensor, Tensor>? predict = null)
    {
        bool wasTraining = model.training;
        model.eval();
        using var noGrad = no_grad();
        using var confusion = new ConfusionMatrix(classNames.Count, ignoreIndex);
        var images = new List<ImageScore>();
        double lossSum = 0;
        long lossImages = 0;
        var clock = Stopwatch.StartNew();
        int position = 0;
        foreach (var batch in loader.Epoch(0))
        {
            using var guard = Runtime.NativeScalarGuard.Enter();
            using var scope = NewDisposeScope();
            var input = batch.ImageTensor();
            var target = batch.MaskTensor();
            var logits = predict is null ? model.forward(input) : predict(input);
            if (loss is not null)
            {
                lossSum += loss.Compute(logits, target).item<float>() * batch.Count;
                lossImages += batch.Count;
            }
            var prediction = logits.argmax(1);
            confusion.Add(prediction, target);
            for (int i = 0; i < batch.Count; i++)
            {
                using var single = new ConfusionMatrix(classNames.Count, ignoreIndex);
                single.Add(prediction[i], target[i]);
                var m = single.Metrics(classNames);
                images.Add(new ImageScore(batch.Names[i], position++, m.MeanIoU, m.MeanDice));
            }
        }
        double seconds = clock.Elapsed.TotalSeconds;
        if (wasTraining) model.train();
        return new ValidationResult(confusion.Metrics(classNames), lossImages > 0 ? lossSum / lossImages : null, images,
            seconds > 0 ? images.Count / seconds : 0);
    }
}
