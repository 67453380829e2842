using SegSharp.Configuration;
using TorchSharp;
using static TorchSharp.torch;

namespace SegSharp.Models;

/// <summary>
/// LinkNet (Chaurasia and Culurciello 2017; the Linknet of segmentation_models.pytorch): a light decoder on a
/// <see cref="ResNetEncoder"/> at output stride 32. Each of five decoder blocks shrinks its input to a quarter of the
/// channels (1x1), upsamples 2x (a 2x2 transposed convolution), widens to the next encoder level's channels (1x1), each
/// with norm and ReLU, and adds that level (a sum, not a concatenation, so the decoder stays cheap); the last block ends
/// at 32 channels and full resolution, and a 1x1 convolution gives the logits.
/// </summary>
public sealed class LinkNet : SegmentationModel
{
    /// <summary>The channels of the last decoder block (segmentation_models.pytorch's prefinal 32).</summary>
    public const int FinalWidth = 32;

    private readonly ResNetEncoder _encoder;
    private readonly TorchSharp.Modules.ModuleList<nn.Module<Tensor, Tensor>> _decoder;
    private readonly nn.Module<Tensor, Tensor> _head;

    public LinkNet(int inputChannels, int classes, EncoderKind encoder = EncoderKind.ResNet34, NormKind norm = NormKind.Batch, bool padInputs = true,
        bool freezeEncoderNorm = false)
        : base(nameof(LinkNet), inputChannels, classes, 32, padInputs)
    {
        FreezeEncoderNorm = freezeEncoderNorm;
        _encoder = new ResNetEncoder(encoder, inputChannels, norm, outputStride: 32);
        var levels = _encoder.PyramidChannels;
        bool bias = Norms.ConvBias(norm);
        var blocks = new List<nn.Module<Tensor, Tensor>>();
        for (int i = 0; i < 5; i++)
        {
            int input = levels[4 - i], output = i < 4 ? levels[3 - i] : FinalWidth, middle = Math.Max(1, input / 4);
            blocks.Add(nn.Sequential(
                Convolution.Plain(input, middle, 1, bias: bias), Norms.Create(norm, middle), nn.ReLU(inplace: true),
                Convolution.Transposed(middle, middle, 2, 2), Norms.Create(norm, middle), nn.ReLU(inplace: true),
                Convolution.Plain(middle, output, 1, bias: bias), Norms.Create(norm, output), nn.ReLU(inplace: true)));
        }
        _decoder = nn.ModuleList(blocks.ToArray());
        _head = Convolution.Plain(FinalWidth, classes, 1);
        RegisterComponents();
    }

    /// <summary>The ResNet encoder, e.g. to load torchvision or ML.NET weights into.</summary>
    public ResNetEncoder Encoder => _encoder;

    internal override ResNetEncoder? PretrainableEncoder => _encoder;

    protected override Tensor ForwardAligned(Tensor input)
    {
        using var scope = NewDisposeScope();
        var levels = _encoder.Pyramid(input);
        var x = levels[4];
        for (int i = 0; i < _decoder.Count; i++)
        {
            x = _decoder[i].call(x);
            if (i < 4) x = x + levels[3 - i];
        }
        return _head.call(x).MoveToOuterDisposeScope();
    }

    internal override string AddAlignedTo(OnnxGraph graph, string input)
    {
        var levels = _encoder.AddPyramidTo(graph, input);
        string x = levels[4];
        for (int i = 0; i < _decoder.Count; i++)
        {
            x = graph.Add(_decoder[i], x);
            if (i < 4) x = graph.Node("Add", new[] { x, levels[3 - i] });
        }
        return graph.Add(_head, x);
    }
}
