using SegSharp.Configuration;
using TorchSharp;

namespace SegSharp.Models;

/// <summary>Builds the model a config names. Initial weights depend only on the seed.</summary>
public static class ModelFactory
{
    public static SegmentationModel Create(ModelConfig config, int inputChannels, int classes, long seed)
    {
        CheckWeightsFit(config, inputChannels, classes);
        Runtime.TorchRuntime.EnsureLoaded();
        // libtorch initialises layers from its default generator; seeding it right before construction makes the
        // initial weights a function of the seed alone.
        using var guard = Runtime.NativeScalarGuard.Enter();
        torch.random.manual_seed(seed);
        bool pad = config.InputPolicy == InputPolicy.Pad;
        return config.Kind switch
        {
            ModelKind.UNet when config.Encoder == EncoderKind.None =>
                new UNet(inputChannels, classes, config.Depth, config.Width, config.Norm, config.Upsampling, pad),
            ModelKind.UNet => new ResNetUNet(inputChannels, classes, config.Encoder, config.Norm, pad, config.FreezeEncoderNorm),
            ModelKind.DeepLabV3Plus => new DeepLabV3Plus(inputChannels, classes, config.Encoder, config.Norm, pad, config.FreezeEncoderNorm),
            ModelKind.Fpn => new Fpn(inputChannels, classes, config.Encoder, config.Norm, pad, config.FreezeEncoderNorm),
            ModelKind.LinkNet => new LinkNet(inputChannels, classes, config.Encoder, config.Norm, pad, config.FreezeEncoderNorm),
        };
    }

    /// <summary>
    /// The starting weights a config names, over the seeded ones: the encoder's (<c>model.encoder_weights</c>: ML.NET's
    /// ResNet-18 from its ONNX file, matched by graph structure, or a torchvision ResNet state dict through its key map),
    /// then the whole model's (<c>model.init_weights</c>).
    /// </summary>
    public static void LoadStartingWeights(SegmentationModel model, ModelConfig config)
    {
        if (config.EncoderWeights is { } weights)
        {
            var encoder = model.PretrainableEncoder ?? throw new SegSharpException($"model.encoder_weights '{weights}' needs a model with an encoder; " +
                $"model.name {Foundation.OptionNames<ModelKind>.Name(config.Kind)} has none. Remove model.encoder_weights or use model.name " +
                $"{ModelConfig.EncoderModels}.");
            if (config.Encoder == EncoderKind.MlnetResNet18)
                MlnetResNet18Weights.LoadInto(encoder, weights == ModelConfig.PretrainedWeights ? MlnetResNet18Weights.BundledPath : weights);
            else TorchvisionResNet.LoadInto(encoder, config.Encoder, weights);
        }
        if (config.InitWeights is { } initial) WeightFiles.LoadInto(model, initial);
    }

    /// <summary>
    /// Refuses, before anything is allocated, a U-Net whose float32 weights alone exceed the memory available (a width of
    /// 1024 at depth 7 is 2.5 TB): otherwise the kernel kills the process without a message. DeepLabV3+'s size is fixed
    /// by its encoder.
    /// </summary>
    private static void CheckWeightsFit(ModelConfig config, int inputChannels, int classes)
    {
        if (config.Kind != ModelKind.UNet || config.HasEncoder) return;
        double bytes = 4 * UNet.ParameterCount(inputChannels, classes, config.Depth, config.Width, config.Norm, config.Upsampling);
        if (Runtime.MemoryInfo.AvailableBytes() is not long available || bytes <= 0.5 * available) return;
        string need = (bytes / (1 << 30)).ToString("F1", System.Globalization.CultureInfo.InvariantCulture);
        string have = (available / (double)(1 << 30)).ToString("F1", System.Globalization.CultureInfo.InvariantCulture);
        throw new SegSharpException($"model.width {config.Width} with model.depth {config.Depth} makes a U-Net whose weights alone take {need} GB, " +
            $"more than half of the {have} GB of memory available. Lower model.width or model.depth (width 32, depth 4: 0.03 GB).");
    }
}
