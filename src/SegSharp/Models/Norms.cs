using SegSharp.Configuration;
using TorchSharp;
using static TorchSharp.torch;

namespace SegSharp.Models;

/// <summary>The normalisation layer a config names: batch, group (8 groups where channels allow) or none.</summary>
public static class Norms
{
    public static nn.Module<Tensor, Tensor> Create(NormKind kind, long channels) => kind switch
    {
        NormKind.Batch => nn.BatchNorm2d(channels),
        NormKind.Group => new GroupNormalization(channels % 8 == 0 ? 8 : channels % 4 == 0 ? 4 : 1, channels),
        NormKind.None => nn.Identity(),
    };

    /// <summary>Convolutions followed by a norm need no bias: the norm's shift replaces it.</summary>
    public static bool ConvBias(NormKind kind) => kind == NormKind.None;
}
