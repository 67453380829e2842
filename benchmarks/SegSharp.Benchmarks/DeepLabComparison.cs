using SegSharp.Configuration;
using SegSharp.Models;
using static TorchSharp.torch;

namespace SegSharp.Benchmarks;

/// <summary>
/// DeepLabV3+ at batch 8 x 256x256, 11 classes: SegSharp's model and the stock-module baseline, images/s. The bfloat16
/// figures are NaN on a CPU kind without BF16 instructions (auto never picks bfloat16 there, and oneDNN emulates it
/// slowly). <see cref="InferLaidOut"/> is float32 inference in the layout predict's default (memory_format auto) chose,
/// named in <see cref="Layout"/>.
/// </summary>
public sealed record DeepLabResult(string Encoder, long Parameters, double GflopPerImage, double Train, double TrainBf16, double Infer,
    double InferBf16, double BareTrain, double BareInfer, double InferLaidOut, string Layout)
{
    /// <summary>Achieved convolution GFLOP/s of a training step (3 x forward FLOPs) and of inference.</summary>
    public double TrainGflops => 3 * GflopPerImage * Train;
    public double InferGflops => GflopPerImage * Infer;
}

/// <summary>Measures DeepLabV3+ (ResNet-18 or ResNet-50) training and inference, float32 and bfloat16, against the bare baseline.</summary>
public static class DeepLabComparison
{
    public const int Batch = 8, Size = 256, Classes = 11;

    public static ModelConfig Config(EncoderKind encoder) => Measure.ReferenceUNet with { Kind = ModelKind.DeepLabV3Plus, Encoder = encoder };

    /// <summary>
    /// SegSharp and bare measured alternately (training: two rounds; inference: three, after calibrating both once),
    /// best of each, so machine noise and process history affect both alike.
    /// </summary>
    public static DeepLabResult Run(EncoderKind encoder, int steps)
    {
        random.manual_seed(1);
        using var model = ModelFactory.Create(Config(encoder), 3, Classes, 1);
        using var bare = new BareDeepLab(Classes, encoder == EncoderKind.ResNet50);
        double gflop = ConvolutionFlops.PerImage(model, 3, Size) / 1e9;
        bool bf16 = Runtime.CpuKind.HasBfloat16;
        double train = 0, bareTrain = 0, trainBf16 = double.NaN, infer = 0, bareInfer = 0, inferBf16 = bf16 ? 0 : double.NaN, inferLaidOut = 0;
        using (var optimizer = optim.Adam(model.parameters(), 1e-3))
        using (var bareOptimizer = optim.Adam(bare.parameters(), 1e-3))
        {
            for (int round = 0; round < 2; round++)
            {
                train = Math.Max(train, Batch / Measure.SecondsPerTrainStep(model, optimizer, Batch, Size, steps, guard: true, Classes));
                bareTrain = Math.Max(bareTrain, Batch / Measure.SecondsPerTrainStep(bare, bareOptimizer, Batch, Size, steps, guard: false, Classes));
            }
            if (bf16)
            {
                model.ComputeType = ScalarType.BFloat16;
                trainBf16 = Batch / Measure.SecondsPerTrainStep(model, optimizer, Batch, Size, steps, guard: true, Classes);
                model.ComputeType = null;
            }
        }
        using (var calibration = rand(Batch, 3, Size, Size))
        {
            Measure.Calibrate(model, calibration);
            Measure.Calibrate(bare, calibration);
        }
        for (int round = 0; round < 3; round++)
        {
            model.ComputeType = null;
            infer = Math.Max(infer, Measure.InferImagesPerSecond(model, Batch, Size, steps, calibrate: false));
            bareInfer = Math.Max(bareInfer, Measure.InferImagesPerSecond(bare, Batch, Size, steps, calibrate: false));
            if (!bf16) continue;
            model.ComputeType = ScalarType.BFloat16;
            inferBf16 = Math.Max(inferBf16, Measure.InferImagesPerSecond(model, Batch, Size, steps, calibrate: false));
            model.ComputeType = null;
        }
        // The layout predict uses by default, after the plain measurements (the model is not trained after this).
        string layout = ChannelsLast.Apply(model, MemoryFormat.Auto);
        for (int round = 0; round < 3; round++)
            inferLaidOut = Math.Max(inferLaidOut, Measure.InferImagesPerSecond(model, Batch, Size, steps, calibrate: false));
        return new DeepLabResult(encoder == EncoderKind.ResNet50 ? "resnet50" : "resnet18", model.ParameterCount(), gflop, train, trainBf16, infer,
            inferBf16, bareTrain, bareInfer, inferLaidOut, layout);
    }
}
