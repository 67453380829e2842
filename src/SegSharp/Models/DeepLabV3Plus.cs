using SegSharp.Configuration;
using TorchSharp;
using static TorchSharp.torch;

namespace SegSharp.Models;

/// <summary>
/// DeepLabV3+ (Chen et al. 2018): a <see cref="ResNetEncoder"/> at output stride 16, ASPP (rates 6/12/18) on its
/// deepest features, and a decoder that upsamples them 4x, joins the stride-4 features reduced to 48 channels,
/// refines with two 3x3 convs and upsamples 4x to the input size. Encoder and decoder are separate parts.
/// </summary>
public sealed class DeepLabV3Plus : SegmentationModel
{
    private readonly ResNetEncoder _encoder;

    /// <summary>The ResNet encoder (stride-4 and stride-16 features), e.g. to load torchvision weights into.</summary>
    public ResNetEncoder Encoder => _encoder;

    internal override ResNetEncoder? PretrainableEncoder => _encoder;
    private readonly AtrousSpatialPyramidPooling _aspp;
    private readonly nn.Module<Tensor, Tensor> _lowLevel;
    private readonly nn.Module<Tensor, Tensor> _refine;
    private readonly nn.Module<Tensor, Tensor> _head;

    public DeepLabV3Plus(int inputChannels, int classes, EncoderKind encoder = EncoderKind.ResNet34, NormKind norm = NormKind.Batch, bool padInputs = true,
        bool freezeEncoderNorm = false)
        : base(nameof(DeepLabV3Plus), inputChannels, classes, 16, padInputs)
    {
        FreezeEncoderNorm = freezeEncoderNorm;
        bool bias = Norms.ConvBias(norm);
        _encoder = new ResNetEncoder(encoder, inputChannels, norm);
        _aspp = new AtrousSpatialPyramidPooling(_encoder.HighChannels, 256, new[] { 6, 12, 18 }, norm);
        _lowLevel = nn.Sequential(Convolution.Plain(_encoder.LowLevelChannels, 48, 1, bias: bias), Norms.Create(norm, 48), nn.ReLU(inplace: true));
        _refine = nn.Sequential(
            Convolution.Plain(256 + 48, 256, 3, padding: 1, bias: bias), Norms.Create(norm, 256), nn.ReLU(inplace: true),
            Convolution.Plain(256, 256, 3, padding: 1, bias: bias), Norms.Create(norm, 256), nn.ReLU(inplace: true));
        _head = Convolution.Plain(256, classes, 1);
        RegisterComponents();
    }

    protected override Tensor ForwardAligned(Tensor input)
    {
        // Each tensor is disposed once nothing reads it again, so a pass does not hold every activation until its end.
        using var scope = NewDisposeScope();
        var (low, high) = _encoder.call(input);
        Tensor up, joined, logits;
        using (high)
        using (var context = _aspp.call(high))
            up = nn.functional.interpolate(context, new[] { low.shape[2], low.shape[3] }, mode: InterpolationMode.Bilinear, align_corners: false);
        using (low)
        using (up)
        using (var projected = _lowLevel.call(low))
            joined = cat(new[] { up, projected }, 1);
        using (joined)
        using (var refined = _refine.call(joined))
            logits = _head.call(refined);
        using (logits)
            return nn.functional.interpolate(logits, new[] { input.shape[2], input.shape[3] }, mode: InterpolationMode.Bilinear, align_corners: false)
                .MoveToOuterDisposeScope();
    }

    internal override string AddAlignedTo(OnnxGraph graph, string input)
    {
        var (low, high) = _encoder.AddTo(graph, input);
        string context = graph.Add(_aspp, high);
        string up = graph.Bilinear(context, sizes: graph.ShapeWithSize(context, low));
        string logits = graph.Add(_head, graph.Add(_refine, graph.Node("Concat", new[] { up, graph.Add(_lowLevel, low) }, OnnxGraph.Attribute("axis", 1))));
        return graph.Bilinear(logits, sizes: graph.ShapeWithSize(logits, input));
    }
}
