using TorchSharp;
using static TorchSharp.torch;

namespace SegSharp.Models;

/// <summary>
/// What ML.NET's ResNet-18 expects of its input, applied inside the model so datasets keep plain 0..1 pixels (and need
/// no normalize step): pixels scaled to 0..255 minus the ImageNet channel means the package's ResNetPreprocess.onnx
/// subtracts. That file subtracts a 224x224 mean image; its per-channel averages are used here so any image size
/// works (the image varies by a few grey levels around them). The package's BGR order is folded into the stem
/// weights when they are loaded (<see cref="MlnetResNet18Weights"/>), so channels stay RGB here. Grayscale images
/// are repeated to three channels. Any other count N keeps its N channels, channel c taking the mean of RGB channel
/// c mod 3; the stem then has N inputs and its pretrained kernels are adapted by <see cref="TorchvisionResNet.AdaptInputChannels"/>.
/// </summary>
public sealed class MlnetPreprocessing : nn.Module<Tensor, Tensor>, IOnnxExportable
{
    /// <summary>The channel averages of ResNetPreprocess.onnx's mean image, in RGB order, on the 0..255 scale.</summary>
    public static readonly float[] ChannelMeans = { 123.15163f, 115.902885f, 103.06262f };

    private readonly long _inputChannels;

    public MlnetPreprocessing(long inputChannels) : base(nameof(MlnetPreprocessing))
    {
        if (inputChannels < 1) throw new ArgumentOutOfRangeException(nameof(inputChannels), inputChannels, "at least 1");
        _inputChannels = inputChannels;
    }

    /// <summary>Channels given to the stem: 3 for gray (repeated), else the input's own.</summary>
    public long OutputChannels => _inputChannels == 1 ? 3 : _inputChannels;

    /// <summary>The subtracted mean of each output channel: RGB channel c mod 3's.</summary>
    private float[] Means => Enumerable.Range(0, (int)OutputChannels).Select(c => ChannelMeans[c % 3]).ToArray();

    /// <param name="input">[N, C, H, W], pixels in 0..1.</param>
    /// <returns>[N, <see cref="OutputChannels"/>, H, W]: 255·pixel − channel mean.</returns>
    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var rgb = _inputChannels == 1 ? input.expand(input.shape[0], OutputChannels, input.shape[2], input.shape[3]) : input;
        using var means = tensor(Means, new long[] { 1, OutputChannels, 1, 1 }, dtype: input.dtype, device: input.device);
        return (rgb * 255 - means).MoveToOuterDisposeScope();
    }

    string IOnnxExportable.AddTo(OnnxGraph graph, string input)
    {
        string rgb = _inputChannels == 1 ? graph.Node("Concat", new[] { input, input, input }, OnnxGraph.Attribute("axis", 1)) : input;
        string scaled = graph.Node("Mul", new[] { rgb, graph.Constant(new[] { 255f }, 1) });
        return graph.Node("Sub", new[] { scaled, graph.Constant(Means, 1, OutputChannels, 1, 1) });
    }
}
