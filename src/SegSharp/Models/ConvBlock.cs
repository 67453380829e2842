using SegSharp.Configuration;
using TorchSharp;
using static TorchSharp.torch;

namespace SegSharp.Models;

/// <summary>U-Net's unit: two (3x3 conv, norm, ReLU), padding 1 so the size is kept.</summary>
public sealed class ConvBlock : nn.Module<Tensor, Tensor>, IOnnxExportable
{
    private readonly nn.Module<Tensor, Tensor> _layers;

    public ConvBlock(long input, long output, NormKind norm) : base(nameof(ConvBlock))
    {
        bool bias = Norms.ConvBias(norm);
        _layers = nn.Sequential(
            Convolution.Plain(input, output, 3, padding: 1, bias: bias), Norms.Create(norm, output), nn.ReLU(inplace: true),
            Convolution.Plain(output, output, 3, padding: 1, bias: bias), Norms.Create(norm, output), nn.ReLU(inplace: true));
        RegisterComponents();
    }

    public override Tensor forward(Tensor input) => _layers.call(input);

    string IOnnxExportable.AddTo(OnnxGraph graph, string input) => graph.Add(_layers, input);
}
