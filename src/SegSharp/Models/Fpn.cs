using SegSharp.Configuration;
using TorchSharp;
using static TorchSharp.torch;

namespace SegSharp.Models;

/// <summary>
/// A Feature Pyramid Network for segmentation (Kirillov et al. 2019, "Panoptic FPN"; the decoder users know from
/// segmentation_models.pytorch): a <see cref="ResNetEncoder"/> at output stride 32; 1x1 lateral convolutions take its
/// stride-4 to stride-32 features to 256 channels and a top-down path adds each level to the one above it, upsampled 2x
/// (nearest); every level then goes through 3x3 convolution blocks (128 channels, norm, ReLU) and 2x bilinear upsamplings
/// down to stride 4, the four are summed, and a 1x1 convolution and a 4x bilinear upsampling give the logits.
/// </summary>
public sealed class Fpn : SegmentationModel
{
    /// <summary>Channels of the top-down pyramid and of the segmentation branches (the published 256 and 128).</summary>
    public const int PyramidWidth = 256, SegmentationWidth = 128;

    private readonly ResNetEncoder _encoder;
    private readonly nn.Module<Tensor, Tensor> _lateral2, _lateral3, _lateral4, _lateral5;
    private readonly nn.Module<Tensor, Tensor> _branch2, _branch3, _branch4, _branch5;
    private readonly nn.Module<Tensor, Tensor> _head;

    public Fpn(int inputChannels, int classes, EncoderKind encoder = EncoderKind.ResNet34, NormKind norm = NormKind.Batch, bool padInputs = true,
        bool freezeEncoderNorm = false)
        : base(nameof(Fpn), inputChannels, classes, 32, padInputs)
    {
        FreezeEncoderNorm = freezeEncoderNorm;
        _encoder = new ResNetEncoder(encoder, inputChannels, norm, outputStride: 32);
        var c = _encoder.PyramidChannels;
        _lateral2 = Convolution.Plain(c[1], PyramidWidth, 1);
        _lateral3 = Convolution.Plain(c[2], PyramidWidth, 1);
        _lateral4 = Convolution.Plain(c[3], PyramidWidth, 1);
        _lateral5 = Convolution.Plain(c[4], PyramidWidth, 1);
        _branch2 = Branch(0, norm);
        _branch3 = Branch(1, norm);
        _branch4 = Branch(2, norm);
        _branch5 = Branch(3, norm);
        _head = Convolution.Plain(SegmentationWidth, classes, 1);
        RegisterComponents();
    }

    /// <summary>The ResNet encoder, e.g. to load torchvision or ML.NET weights into.</summary>
    public ResNetEncoder Encoder => _encoder;

    internal override ResNetEncoder? PretrainableEncoder => _encoder;

    /// <summary>A pyramid level's branch to stride 4: one conv block, then as many conv blocks with 2x upsampling as it has levels to climb.</summary>
    private static nn.Module<Tensor, Tensor> Branch(int upsamplings, NormKind norm)
    {
        bool bias = Norms.ConvBias(norm);
        var layers = new List<nn.Module<Tensor, Tensor>>();
        for (int i = 0; i < Math.Max(1, upsamplings); i++)
        {
            layers.Add(Convolution.Plain(i == 0 ? PyramidWidth : SegmentationWidth, SegmentationWidth, 3, padding: 1, bias: bias));
            layers.Add(Norms.Create(norm, SegmentationWidth));
            layers.Add(nn.ReLU(inplace: true));
            if (upsamplings > 0) layers.Add(nn.Upsample(scale_factor: new[] { 2.0, 2.0 }, mode: UpsampleMode.Bilinear, align_corners: false));
        }
        return nn.Sequential(layers);
    }

    protected override Tensor ForwardAligned(Tensor input)
    {
        // The same operations in the same order as the sums they stand for; each tensor is disposed once nothing reads it
        // again, so a pass does not hold every activation until its end.
        using var scope = NewDisposeScope();
        var f = _encoder.Pyramid(input);
        f[0].Dispose(); // the stem's level: the pyramid starts at stride 4
        Tensor p5;
        using (f[4]) p5 = _lateral5.call(f[4]);
        var p4 = TopDown(p5, _lateral4, f[3]);
        var p3 = TopDown(p4, _lateral3, f[2]);
        var p2 = TopDown(p3, _lateral2, f[1]);
        var merged = Sum(Branch(_branch5, p5), Branch(_branch4, p4));
        merged = Sum(merged, Branch(_branch3, p3));
        merged = Sum(merged, Branch(_branch2, p2));
        using (merged)
        using (var logits = _head.call(merged))
            return nn.functional.interpolate(logits, new[] { input.shape[2], input.shape[3] }, mode: InterpolationMode.Bilinear, align_corners: false)
                .MoveToOuterDisposeScope();
    }

    /// <summary>The coarser level up-sampled plus the lateral of <paramref name="feature"/>, which is disposed.</summary>
    private static Tensor TopDown(Tensor coarser, nn.Module<Tensor, Tensor> lateral, Tensor feature)
    {
        using var up = Nearest2x(coarser);
        using var side = lateral.call(feature);
        feature.Dispose();
        return up + side;
    }

    private static Tensor Branch(nn.Module<Tensor, Tensor> branch, Tensor level)
    {
        using (level) return branch.call(level);
    }

    private static Tensor Sum(Tensor a, Tensor b)
    {
        using (a)
        using (b)
            return a + b;
    }

    internal override string AddAlignedTo(OnnxGraph graph, string input)
    {
        var f = _encoder.AddPyramidTo(graph, input);
        string p5 = graph.Add(_lateral5, f[4]);
        string p4 = graph.Node("Add", new[] { graph.Nearest2x(p5), graph.Add(_lateral4, f[3]) });
        string p3 = graph.Node("Add", new[] { graph.Nearest2x(p4), graph.Add(_lateral3, f[2]) });
        string p2 = graph.Node("Add", new[] { graph.Nearest2x(p3), graph.Add(_lateral2, f[1]) });
        // Summed in the forward pass's order, so float rounding matches.
        string merged = graph.Node("Add", new[] { graph.Add(_branch5, p5), graph.Add(_branch4, p4) });
        merged = graph.Node("Add", new[] { merged, graph.Add(_branch3, p3) });
        merged = graph.Node("Add", new[] { merged, graph.Add(_branch2, p2) });
        string logits = graph.Add(_head, merged);
        return graph.Bilinear(logits, sizes: graph.ShapeWithSize(logits, input));
    }

    private static Tensor Nearest2x(Tensor x) => nn.functional.interpolate(x, scale_factor: new[] { 2.0, 2.0 }, mode: InterpolationMode.Nearest);
}
