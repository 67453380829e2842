using SegSharp.Configuration;
using TorchSharp;
using static TorchSharp.torch;

namespace SegSharp.Models;

/// <summary>
/// U-Net on a ResNet encoder (the U-Net of segmentation_models.pytorch): the encoder's five levels (strides 2 to 32) are
/// the contracting path; five decoder blocks each upsample 2x (nearest), join the encoder level of that stride, and apply
/// two 3x3 convolutions with norm and ReLU (256, 128, 64, 32 and 16 channels); a 3x3 convolution gives the logits at the
/// input's size. <c>model.name: unet</c> with <c>model.encoder</c> set; without one it is the classic <see cref="UNet"/>.
/// </summary>
public sealed class ResNetUNet : SegmentationModel
{
    /// <summary>The decoder blocks' channels, deepest first (the published U-Net decoder of segmentation_models.pytorch).</summary>
    public static readonly IReadOnlyList<int> DecoderChannels = new[] { 256, 128, 64, 32, 16 };

    private readonly ResNetEncoder _encoder;
    private readonly TorchSharp.Modules.ModuleList<nn.Module<Tensor, Tensor>> _decoder;
    private readonly nn.Module<Tensor, Tensor> _head;

    public ResNetUNet(int inputChannels, int classes, EncoderKind encoder = EncoderKind.ResNet34, NormKind norm = NormKind.Batch, bool padInputs = true,
        bool freezeEncoderNorm = false)
        : base(nameof(ResNetUNet), inputChannels, classes, 32, padInputs)
    {
        FreezeEncoderNorm = freezeEncoderNorm;
        _encoder = new ResNetEncoder(encoder, inputChannels, norm, outputStride: 32);
        var skips = _encoder.PyramidChannels;
        bool bias = Norms.ConvBias(norm);
        var blocks = new List<nn.Module<Tensor, Tensor>>();
        int input = skips[4];
        for (int i = 0; i < DecoderChannels.Count; i++)
        {
            int skip = i < 4 ? skips[3 - i] : 0, output = DecoderChannels[i];
            blocks.Add(nn.Sequential(
                Convolution.Plain(input + skip, output, 3, padding: 1, bias: bias), Norms.Create(norm, output), nn.ReLU(inplace: true),
                Convolution.Plain(output, output, 3, padding: 1, bias: bias), Norms.Create(norm, output), nn.ReLU(inplace: true)));
            input = output;
        }
        _decoder = nn.ModuleList(blocks.ToArray());
        _head = Convolution.Plain(input, classes, 3, padding: 1);
        RegisterComponents();
    }

    /// <summary>The ResNet encoder, e.g. to load torchvision or ML.NET weights into.</summary>
    public ResNetEncoder Encoder => _encoder;

    internal override ResNetEncoder? PretrainableEncoder => _encoder;

    protected override Tensor ForwardAligned(Tensor input)
    {
        // Each tensor is disposed once nothing reads it again (as in UNet): a pass holds the skips and its working set.
        using var scope = NewDisposeScope();
        var levels = _encoder.Pyramid(input);
        var x = levels[4];
        for (int i = 0; i < _decoder.Count; i++)
        {
            using var previous = x;
            using var up = nn.functional.interpolate(previous, scale_factor: new[] { 2.0, 2.0 }, mode: InterpolationMode.Nearest);
            if (i < 4)
            {
                using var skip = levels[3 - i];
                using var joined = cat(new[] { up, skip }, 1);
                x = _decoder[i].call(joined);
            }
            else
            {
                x = _decoder[i].call(up);
            }
        }
        using (x) return _head.call(x).MoveToOuterDisposeScope();
    }

    internal override string AddAlignedTo(OnnxGraph graph, string input)
    {
        var levels = _encoder.AddPyramidTo(graph, input);
        string x = levels[4];
        for (int i = 0; i < _decoder.Count; i++)
        {
            x = graph.Nearest2x(x);
            if (i < 4) x = graph.Node("Concat", new[] { x, levels[3 - i] }, OnnxGraph.Attribute("axis", 1));
            x = graph.Add(_decoder[i], x);
        }
        return graph.Add(_head, x);
    }
}
