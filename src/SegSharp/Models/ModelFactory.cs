using SegSharp.Configuration;
using TorchSharp;

namespace SegSharp.Models;

/// <summary>Builds the model a config names. Initial weights depend only on the seed.</summary>
public static class ModelFactory
{
    public static SegmentationModel Create(ModelConfig config, int inputChannels, int classes, long seed)
    {
        Runtime.TorchRuntime.EnsureLoaded();
        // libtorch initialises layers from its default generator; seeding it right before construction makes the
        // initial weights a function of the seed alone.
        using var guard = Runtime.NativeScalarGuard.Enter();
        torch.random.manual_seed(seed);
        bool pad = config.InputPolicy == InputPolicy.Pad;
        return config.Kind switch
        {
            ModelKind.UNet => new UNet(inputChannels, classes, config.Depth, config.Width, config.Norm, config.Upsampling, pad),
            ModelKind.DeepLabV3Plus => new DeepLabV3Plus(inputChannels, classes, config.Encoder, config.Norm, pad, config.FreezeEncoderNorm),
        };
    }
}
