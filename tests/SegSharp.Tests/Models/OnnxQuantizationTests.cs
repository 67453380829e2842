using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Onnx;
using SegSharp.Inference;
using SegSharp.Models;
using static TorchSharp.torch;

namespace SegSharp.Tests.Models;

/// <summary>
/// INT8 quantisation's graph rewrite on a small ResNet U-Net: batch-norm folding keeps ONNX Runtime's float logits, the
/// QDQ graph passes ONNX's own checker, ONNX Runtime fuses every quantised convolution into QLinearConv, its integer
/// kernels agree with the QDQ graph run as plain float arithmetic, the stem and head stay float, weights round-trip within
/// half a step, and activation parameters follow uint8's closed form.
/// </summary>
public class OnnxQuantizationTests
{
    private static readonly string[] Settings = { "model.name=unet", "model.encoder=resnet18", "model.norm=batch", "model.width=16", "model.depth=3" };

    private static readonly Lazy<(ModelProto Float, OnnxQuantization.Plan Plan, ModelProto Int8, float[][] Images)> Quantized = new(() =>
    {
        using var model = OnnxExportTests.Build(Settings, classes: 3);
        var proto = OnnxExport.Build(model, OnnxExportTests.Card(model, Settings), "{}");
        var plan = OnnxQuantization.Prepare(proto);
        var images = Enumerable.Range(0, 4).Select(i =>
        {
            using var image = OnnxExportTests.Random(1, 3, 64, 64, seed: 40 + i);
            return image.data<float>().ToArray();
        }).ToArray();
        using var calibration = new ActivationCalibration(plan, 3, threads: 1);
        foreach (var image in images.Take(3)) calibration.Add(image, 64, 64);
        return (proto, plan, OnnxQuantization.Quantize(plan, calibration.Ranges), images);
    });

    private static float[] Logits(ModelProto model, float[] image, GraphOptimizationLevel level = GraphOptimizationLevel.ORT_ENABLE_ALL,
        string? optimized = null)
    {
        using var options = new SessionOptions { GraphOptimizationLevel = level, IntraOpNumThreads = 1 };
        if (optimized is not null) options.OptimizedModelFilePath = optimized;
        using var session = new InferenceSession(model.ToByteArray(), options);
        using var input = OrtValue.CreateTensorValueFromMemory(image, new long[] { 1, 3, 64, 64 });
        using var run = new RunOptions();
        using var results = session.Run(run, new[] { "image" }, new[] { input }, new[] { "logits" });
        return results[0].GetTensorDataAsSpan<float>().ToArray();
    }

    [Fact]
    public void Folding_batch_norms_into_convolutions_keeps_the_logits()
    {
        var (original, plan, _, images) = Quantized.Value;
        Assert.Contains(original.Graph.Node, n => n.OpType == "BatchNormalization");
        Assert.DoesNotContain(plan.Float.Graph.Node, n => n.OpType == "BatchNormalization");
        var expected = Logits(original, images[3], GraphOptimizationLevel.ORT_DISABLE_ALL);
        var actual = Logits(plan.Float, images[3], GraphOptimizationLevel.ORT_DISABLE_ALL);
        Assert.True(expected.Zip(actual).Max(p => Math.Abs(p.First - p.Second)) < 1e-4);
    }

    [Fact]
    public void The_int8_graph_is_valid_onnx_with_float_stem_and_head_and_runs_as_integer_convolutions()
    {
        var (_, plan, int8, images) = Quantized.Value;
        string folder = TestPaths.TempFolder("int8-graph");
        string path = Path.Combine(folder, "model.int8.onnx");
        File.WriteAllBytes(path, int8.ToByteArray());
        Prerequisite.PythonModules("python3-onnx", "onnx");
        ChildProcess.Run(Prerequisite.Python, folder, null, "-c", "import onnx, sys; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)", path);

        var convolutions = int8.Graph.Node.Where(n => n.OpType == "Conv").ToList();
        var floatWeights = int8.Graph.Initializer.Where(t => t.DataType == (int)TensorProto.Types.DataType.Float).Select(t => t.Name).ToHashSet();
        Assert.Contains(convolutions[0].Input[1], floatWeights);
        Assert.Contains(convolutions[^1].Input[1], floatWeights);
        Assert.All(convolutions.Skip(1).SkipLast(1), c => Assert.EndsWith("_weight_dq", c.Input[1], StringComparison.Ordinal));
        Assert.Equal(convolutions.Count - 2, plan.Convolutions.Count);

        // ONNX Runtime's optimised graph: every quantised convolution became an integer QLinearConv.
        string optimized = Path.Combine(folder, "optimized.onnx");
        var fused = Logits(int8, images[3], optimized: optimized);
        var ops = ModelProto.Parser.ParseFrom(File.ReadAllBytes(optimized)).Graph.Node.Select(n => n.OpType).ToList();
        Assert.Equal(plan.Convolutions.Count, ops.Count(o => o == "QLinearConv"));

        // The same QDQ graph unoptimised is float arithmetic on quantised values: the integer kernels must agree with it to
        // within about one percent of the logits' spread, and stay near the float model (image 3 was not in the calibration; measured
        // here: 0.15% and 0.02%).
        var reference = Logits(int8, images[3], GraphOptimizationLevel.ORT_DISABLE_ALL);
        var original = Logits(plan.Float, images[3]);
        double spread = original.Max() - original.Min();
        double kernels = fused.Zip(reference).Max(p => Math.Abs(p.First - p.Second));
        double quantisation = fused.Zip(original).Average(p => Math.Abs(p.First - p.Second));
        Assert.True(kernels < 0.01 * spread, $"integer kernels differ from the QDQ reference by {kernels} (logit spread {spread})");
        Assert.True(quantisation < 0.005 * spread, $"INT8 logits differ from float by {quantisation} on average (logit spread {spread})");
    }

    [Fact]
    public void Weights_round_trip_within_half_a_step_per_output_channel()
    {
        var (_, plan, int8, _) = Quantized.Value;
        var initializers = int8.Graph.Initializer.ToDictionary(t => t.Name);
        var floats = plan.Float.Graph.Initializer.ToDictionary(t => t.Name);
        foreach (var conv in plan.Float.Graph.Node.Where(n => plan.Convolutions.Contains(n.Name)))
        {
            var original = OnnxQuantization.Floats(floats[conv.Input[1]]);
            var q = initializers[conv.Name + "_weight_quantized"].RawData.Span.ToArray().Select(b => (sbyte)b).ToArray();
            var scales = OnnxQuantization.Floats(initializers[conv.Name + "_weight_scale"]);
            int per = original.Length / scales.Length;
            for (int o = 0; o < scales.Length; o++)
            {
                var channel = Enumerable.Range(o * per, per).ToList();
                Assert.Equal(127, channel.Max(i => Math.Abs((int)q[i])));
                Assert.All(channel, i => Assert.True(Math.Abs(q[i] * scales[o] - original[i]) <= scales[o] / 2 + 1e-7));
            }
        }
    }

    [Theory]
    [InlineData(-1f, 3f, 4f / 255, 64)]
    [InlineData(0.5f, 2f, 2f / 255, 0)]
    [InlineData(-2f, -1f, 2f / 255, 255)]
    [InlineData(0f, 0f, 1f, 0)]
    public void Activation_ranges_widen_to_hold_zero_and_map_onto_uint8(float min, float max, float scale, int zeroPoint)
    {
        var (actualScale, actualZero) = OnnxQuantization.ActivationParameters(min, max);
        Assert.Equal(scale, actualScale, 1e-7f);
        Assert.Equal(zeroPoint, actualZero);
    }
}
