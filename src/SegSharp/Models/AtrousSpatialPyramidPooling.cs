using SegSharp.Configuration;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SegSharp.Models;

/// <summary>ASPP (Chen et al.): a 1x1 branch, 3x3 branches dilated 6/12/18, and image-level pooling, projected to 256.</summary>
public sealed class AtrousSpatialPyramidPooling : nn.Module<Tensor, Tensor>, IOnnxExportable
{
    private readonly ModuleList<nn.Module<Tensor, Tensor>> _branches = new();
    private readonly nn.Module<Tensor, Tensor> _pooling;
    private readonly nn.Module<Tensor, Tensor> _projection;

    public AtrousSpatialPyramidPooling(long input, long output, int[] rates, NormKind norm) : base(nameof(AtrousSpatialPyramidPooling))
    {
        bool bias = Norms.ConvBias(norm);
        _branches.Add(nn.Sequential(Convolution.Plain(input, output, 1, bias: bias), Norms.Create(norm, output), nn.ReLU(inplace: true)));
        foreach (int rate in rates)
            _branches.Add(nn.Sequential(Convolution.Plain(input, output, 3, padding: rate, dilation: rate, bias: bias), Norms.Create(norm, output),
                nn.ReLU(inplace: true)));
        // The pooled branch sees one value per channel per image; batch norm there would fail at batch size 1.
        _pooling = nn.Sequential(nn.AdaptiveAvgPool2d(1), Convolution.Plain(input, output, 1), nn.ReLU(inplace: true));
        _projection = nn.Sequential(Convolution.Plain(output * (rates.Length + 2), output, 1, bias: bias), Norms.Create(norm, output), nn.ReLU(inplace: true));
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var outputs = _branches.Select(b => b.call(input)).ToList();
        var pooled = _pooling.call(input);
        outputs.Add(pooled.expand(pooled.shape[0], pooled.shape[1], input.shape[2], input.shape[3]));
        return _projection.call(cat(outputs, 1)).MoveToOuterDisposeScope();
    }

    string IOnnxExportable.AddTo(OnnxGraph graph, string input)
    {
        var outputs = _branches.Select(b => graph.Add(b, input)).ToList();
        string pooled = graph.Add(_pooling, input);
        outputs.Add(graph.Node("Expand", new[] { pooled, graph.ShapeWithSize(pooled, input) }));
        return graph.Add(_projection, graph.Node("Concat", outputs, OnnxGraph.Attribute("axis", 1)));
    }
}
