using Microsoft.ML.OnnxRuntime;
using SegSharp.Models;
using SegSharp.Runtime;
using static TorchSharp.torch;

namespace SegSharp.Benchmarks;

/// <param name="TorchSharp128">SegSharp's U-Net through libtorch, b8x128, images/s.</param>
/// <param name="OnnxRuntime128">The same model exported to ONNX, through ONNX Runtime, b8x128.</param>
/// <param name="TorchSharp512">Whole 512x512 images one at a time, libtorch.</param>
/// <param name="OnnxRuntime512">Whole 512x512 images one at a time, ONNX Runtime.</param>
public sealed record OnnxResult(double TorchSharp128, double OnnxRuntime128, double TorchSharp512, double OnnxRuntime512);

/// <summary>
/// Inference of the reference U-Net (float32) in TorchSharp and, exported, in ONNX Runtime: same weights, same inputs,
/// both returning the argmax, both on the benchmark's thread count, interleaved over three rounds (best of each).
/// </summary>
public static class OnnxRuntimeComparison
{
    public static OnnxResult Run(int steps, int threads)
    {
        random.manual_seed(1);
        using var model = ModelFactory.Create(Measure.ReferenceUNet, 3, 2, 1);
        using (var calibration = rand(8, 3, 128, 128)) Measure.Calibrate(model, calibration);
        model.eval();
        var file = OnnxExport.Build(model, Card(model), "{}");
        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL, IntraOpNumThreads = threads };
        using var session = new InferenceSession(Google.Protobuf.MessageExtensions.ToByteArray(file), options);
        using var small = rand(8, 3, 128, 128);
        using var large = rand(1, 3, 512, 512);
        double torch128 = 0, onnx128 = 0, torch512 = 0, onnx512 = 0;
        for (int round = 0; round < 3; round++)
        {
            torch128 = Math.Max(torch128, 8 / Measure.Time(() => TorchSharpLabels(model, small), steps));
            onnx128 = Math.Max(onnx128, 8 / Measure.Time(() => OnnxRuntimeLabels(session, small), steps));
            torch512 = Math.Max(torch512, 1 / Measure.Time(() => TorchSharpLabels(model, large), steps));
            onnx512 = Math.Max(onnx512, 1 / Measure.Time(() => OnnxRuntimeLabels(session, large), steps));
        }
        return new OnnxResult(torch128, onnx128, torch512, onnx512);
    }

    private static void TorchSharpLabels(SegmentationModel model, Tensor input)
    {
        using var guard = NativeScalarGuard.Enter();
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        model.forward(input).argmax(1);
    }

    private static void OnnxRuntimeLabels(InferenceSession session, Tensor input)
    {
        // The copy into a managed array is part of what an ONNX Runtime caller pays.
        using var value = OrtValue.CreateTensorValueFromMemory(input.data<float>().ToArray(), input.shape);
        using var runOptions = new RunOptions();
        using var results = session.Run(runOptions, new[] { "image" }, new[] { value }, new[] { "labels" });
    }

    private static ModelCard Card(SegmentationModel model) => new()
    {
        SegSharpVersion = "benchmark", Model = Measure.ReferenceUNet, InputChannels = model.InputChannels,
        Classes = new[] { new ModelCardClass("background", 0, new[] { 0, 0, 0 }), new ModelCardClass("foreground", 1, new[] { 255, 255, 255 }) },
        MaskEncoding = Data.MaskEncoding.Index, IgnoreIndex = 255, Preprocessing = Array.Empty<Configuration.TransformSpec>(), Stride = model.Stride,
        TrainedOn = "random tensors",
    };
}
