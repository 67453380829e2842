using SegSharp.Configuration;
using SegSharp.Models;
using static TorchSharp.torch;

namespace SegSharp.Benchmarks;

/// <summary>DeepLabV3+ at batch 8 x 256x256, 11 classes: SegSharp's model and the stock-module baseline, images/s.</summary>
public sealed record DeepLabResult(string Encoder, long Parameters, double GflopPerImage, double Train, double TrainBf16, double Infer,
    double InferBf16, double BareTrain, double BareInfer)
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

    public static DeepLabResult Run(EncoderKind encoder, int steps)
    {
        random.manual_seed(1);
        using var model = ModelFactory.Create(Config(encoder), 3, Classes, 1);
        double gflop = ConvolutionFlops.PerImage(model, 3, Size) / 1e9;
        double train, trainBf16, infer, inferBf16, bareTrain, bareInfer;
        using (var optimizer = optim.Adam(model.parameters(), 1e-3))
        {
            train = Batch / Measure.SecondsPerTrainStep(model, optimizer, Batch, Size, steps, guard: true, Classes);
            model.ComputeType = ScalarType.BFloat16;
            trainBf16 = Batch / Measure.SecondsPerTrainStep(model, optimizer, Batch, Size, steps, guard: true, Classes);
        }
        using (var bare = new BareDeepLab(Classes, encoder == EncoderKind.ResNet50))
        using (var optimizer = optim.Adam(bare.parameters(), 1e-3))
        {
            bareTrain = Batch / Measure.SecondsPerTrainStep(bare, optimizer, Batch, Size, steps, guard: false, Classes);
            bareInfer = Measure.InferImagesPerSecond(bare, Batch, Size, steps);
        }
        model.ComputeType = null;
        infer = Measure.InferImagesPerSecond(model, Batch, Size, steps);
        model.ComputeType = ScalarType.BFloat16;
        inferBf16 = Measure.InferImagesPerSecond(model, Batch, Size, steps);
        return new DeepLabResult(encoder == EncoderKind.ResNet50 ? "resnet50" : "resnet18", model.ParameterCount(), gflop, train, trainBf16, infer,
            inferBf16, bareTrain, bareInfer);
    }
}
