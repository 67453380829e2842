using SegSharp.Configuration;
using TorchSharp;
using static TorchSharp.torch;

namespace SegSharp.Models;

/// <summary>ResNet's basic (two 3x3) or bottleneck (1x1, 3x3, 1x1) block with a projected shortcut when shapes change.</summary>
public sealed class ResidualBlock : nn.Module<Tensor, Tensor>, IOnnxExportable
{
    private readonly nn.Module<Tensor, Tensor> _body;
    private readonly nn.Module<Tensor, Tensor>? _shortcut;

    public ResidualBlock(long input, long width, int stride, int dilation, bool bottleneck, int expansion, NormKind norm) : base(nameof(ResidualBlock))
    {
        bool bias = Norms.ConvBias(norm);
        long output = width * expansion;
        _body = bottleneck
            ? nn.Sequential(
                Convolution.Plain(input, width, 1, bias: bias), Norms.Create(norm, width), nn.ReLU(inplace: true),
                Convolution.Plain(width, width, 3, stride: stride, padding: dilation, dilation: dilation, bias: bias), Norms.Create(norm, width),
                    nn.ReLU(inplace: true),
                Convolution.Plain(width, output, 1, bias: bias), Norms.Create(norm, output))
            : nn.Sequential(
                Convolution.Plain(input, width, 3, stride: stride, padding: dilation, dilation: dilation, bias: bias), Norms.Create(norm, width),
                    nn.ReLU(inplace: true),
                Convolution.Plain(width, output, 3, padding: dilation, dilation: dilation, bias: bias), Norms.Create(norm, output));
        if (stride != 1 || input != output)
            _shortcut = nn.Sequential(Convolution.Plain(input, output, 1, stride: stride, bias: bias), Norms.Create(norm, output));
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var identity = _shortcut is null ? input : _shortcut.call(input);
        return nn.functional.relu(_body.call(input) + identity).MoveToOuterDisposeScope();
    }

    string IOnnxExportable.AddTo(OnnxGraph graph, string input)
    {
        string identity = _shortcut is null ? input : graph.Add(_shortcut, input);
        return graph.Node("Relu", new[] { graph.Node("Add", new[] { graph.Add(_body, input), identity }) });
    }
}
