using SegSharp.Data;
using SegSharp.Evaluation;
using SegSharp.Models;
using static TorchSharp.torch;

namespace SegSharp.Training;

/// <summary>Logs "image | truth | prediction | errors" panels of the first validation images to TensorBoard.</summary>
internal static class PredictionImages
{
    public static void Log(TensorBoardWriter board, SegmentationModel model, BatchLoader validation, DatasetDescription description, long step, int count = 2)
    {
        bool wasTraining = model.training;
        model.eval();
        using (no_grad())
        {
            var batch = validation.Build(0, 0);
            using var guard = Runtime.NativeScalarGuard.Enter();
            using var scope = NewDisposeScope();
            var prediction = model.forward(batch.ImageTensor()).argmax(1).to(int32).cpu();
            var predicted = prediction.data<int>().ToArray();
            int plane = batch.Height * batch.Width, imageSize = batch.Channels * plane;
            for (int i = 0; i < Math.Min(count, batch.Count); i++)
            {
                var image = batch.Images.AsSpan(i * imageSize, imageSize).ToArray();
                var truth = batch.Masks.AsSpan(i * plane, plane).ToArray().Select(v => (int)v).ToArray();
                using var panel = OverlayRenderer.Panel(image, batch.Channels, batch.Height, batch.Width, truth,
                    predicted.AsSpan(i * plane, plane).ToArray(), description);
                board.Image($"val/{batch.Names[i]}", OverlayRenderer.Png(panel), panel.Height, panel.Width, 3, step);
            }
        }
        if (wasTraining) model.train();
    }
}
