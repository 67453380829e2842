using SegSharp.Configuration;
using SegSharp.Data;
using SegSharp.Inference;
using SegSharp.Tests.Training;
using SegSharp.Transforms;
using SegSharp.Workflows;
using static TorchSharp.torch;

namespace SegSharp.Tests.Workflows;

/// <summary>
/// <c>segsharp evaluate --model model.onnx --data D</c> through ONNX Runtime against the checkpoint it was exported from:
/// the same report files, and the same confusion matrix except where the checkpoint's two top logits differ by less than
/// 1e-4 (a float32 near-tie that two engines may break either way), counted here independently pixel by pixel.
/// </summary>
[Collection("training")]
[Trait("Tier", "EndToEnd")]
public sealed class OnnxEvaluationTests
{
    [Fact]
    public void Evaluating_the_onnx_file_gives_the_checkpoint_s_confusion_matrix_up_to_near_ties()
    {
        string run = TestPaths.TempFolder("onnx-eval");
        TinyRun.Train(run, extra: "train.epochs=2");
        string checkpoint = Path.Combine(run, "checkpoints", "last.ckpt"), onnx = Path.Combine(run, "model.onnx");
        ExportWorkflow.Run(checkpoint, ExportFormat.Onnx, onnx);
        var fromCheckpoint = EvaluationWorkflow.Run(checkpoint, ShapesDataset.Spec, EvaluationSplit.Validation, TestPaths.TempFolder("eval-ckpt"),
            new[] { "evaluation.precision=float32" });
        string folder = TestPaths.TempFolder("eval-onnx");
        var fromOnnx = EvaluationWorkflow.Run(onnx, ShapesDataset.Spec, EvaluationSplit.Validation, folder);

        foreach (var file in new[] { "metrics.json", "per_class.csv", "confusion.png", "report.html" })
            Assert.True(File.Exists(Path.Combine(folder, file)), file);
        Assert.NotEmpty(Directory.GetFiles(Path.Combine(folder, "overlays")));
        Assert.Equal(fromCheckpoint.Outcome.Result.Images.Count, fromOnnx.Outcome.Result.Images.Count);

        // Pixel by pixel: where the two engines' classes differ, the checkpoint's top two logits must be within 1e-4.
        using var trained = TrainedModel.Load(checkpoint);
        using var model = OnnxModel.Load(onnx);
        var onnxPredictor = new OnnxTiledPredictor(model, 0, 0.25, false, long.MaxValue);
        var validation = DatasetSplit.Create(new ShapesDataset()).Validation;
        var preprocessing = TransformPipeline.Create(trained.Card.Preprocessing);
        long pixels = 0, disagreements = 0;
        for (int i = 0; i < validation.Count; i++)
        {
            var sample = preprocessing.Apply(validation.Load(i), new SegSharp.Runtime.SeededRandom(0));
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            trained.Model.eval();
            var logits = trained.Model.forward(tensor(sample.Image, new long[] { 1, sample.Channels, sample.Height, sample.Width }))[0];
            var top = logits.topk(2, dim: 0).values;
            var gap = (top[0] - top[1]).data<float>().ToArray();
            var mine = logits.argmax(0).to(ScalarType.Int32).data<int>().ToArray();
            var theirs = onnxPredictor.ClassMap(sample.Image, sample.Channels, sample.Height, sample.Width);
            for (int p = 0; p < mine.Length; p++)
            {
                if (sample.Mask[p] == validation.Description.IgnoreIndex) continue;
                pixels++;
                if (mine[p] == theirs[p]) continue;
                disagreements++;
                Assert.True(gap[p] < 1e-4, $"image {i}, pixel {p}: classes {mine[p]} and {theirs[p]} with a top-2 logit gap of {gap[p]:E2}");
            }
        }
        long moved = 0;
        var a = fromCheckpoint.Outcome.Result.Metrics.Confusion;
        var b = fromOnnx.Outcome.Result.Metrics.Confusion;
        for (int t = 0; t < a.GetLength(0); t++)
            for (int q = 0; q < a.GetLength(1); q++) moved += Math.Abs(a[t, q] - b[t, q]);
        Console.WriteLine($"ONNX evaluation: {disagreements} of {pixels} pixels are near-ties the engines broke differently; confusion cells moved {moved}");
        Assert.True(moved <= 2 * disagreements, $"the confusion matrices differ by {moved} counts, near-ties explain {2 * disagreements}");
    }
}
