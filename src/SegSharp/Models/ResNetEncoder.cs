using SegSharp.Configuration;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SegSharp.Models;

/// <summary>
/// ResNet-18/34/50 (He et al. 2016) as a feature encoder with output stride 16: the last stage keeps stride 1
/// and dilates by 2 instead (output stride 32 keeps ResNet's own stride 2). Returns the stride-4 features (after
/// layer1) and the deepest features. The ML.NET ResNet-18 variant has three blocks in its last
/// stage and takes RGB pixels in 0..1, which <see cref="MlnetPreprocessing"/> turns into what its weights expect.
/// </summary>
public sealed class ResNetEncoder : nn.Module<Tensor, (Tensor LowLevel, Tensor High)>
{
    private readonly MlnetPreprocessing? _input;
    private readonly nn.Module<Tensor, Tensor> _stem;
    private readonly nn.Module<Tensor, Tensor> _layer1, _layer2, _layer3, _layer4;

    /// <param name="outputStride">16 (dilated last stage, as DeepLabV3+ uses it) or 32 (ResNet as classifiers use it).</param>
    public ResNetEncoder(EncoderKind kind, int inputChannels, NormKind norm, int outputStride = 16) : base(nameof(ResNetEncoder))
    {
        if (outputStride is not (16 or 32)) throw new ArgumentOutOfRangeException(nameof(outputStride), outputStride, "16 or 32");
        (int[] blocks, bool bottleneck) = Layout(kind);
        int expansion = bottleneck ? 4 : 1;
        bool bias = Norms.ConvBias(norm);
        if (kind == EncoderKind.MlnetResNet18) _input = new MlnetPreprocessing(inputChannels);
        long stemInputs = _input?.OutputChannels ?? inputChannels;
        _stem = nn.Sequential(Convolution.Plain(stemInputs, 64, 7, stride: 2, padding: 3, bias: bias), Norms.Create(norm, 64), nn.ReLU(inplace: true),
            nn.MaxPool2d(3, stride: 2, padding: 1));
        long channels = 64;
        _layer1 = Stage(ref channels, 64, blocks[0], 1, 1, bottleneck, expansion, norm);
        _layer2 = Stage(ref channels, 128, blocks[1], 2, 1, bottleneck, expansion, norm);
        _layer3 = Stage(ref channels, 256, blocks[2], 2, 1, bottleneck, expansion, norm);
        _layer4 = outputStride == 16
            ? Stage(ref channels, 512, blocks[3], 1, 2, bottleneck, expansion, norm)
            : Stage(ref channels, 512, blocks[3], 2, 1, bottleneck, expansion, norm);
        LowLevelChannels = 64 * expansion;
        HighChannels = 512 * expansion;
        RegisterComponents();
    }

    /// <summary>Blocks per stage, and whether they are bottlenecks (1x1, 3x3, 1x1) rather than basic (3x3, 3x3).</summary>
    public static (int[] Blocks, bool Bottleneck) Layout(EncoderKind kind) => kind switch
    {
        EncoderKind.ResNet18 => (new[] { 2, 2, 2, 2 }, false),
        EncoderKind.ResNet34 => (new[] { 3, 4, 6, 3 }, false),
        EncoderKind.ResNet50 => (new[] { 3, 4, 6, 3 }, true),
        EncoderKind.MlnetResNet18 => (new[] { 2, 2, 2, 3 }, false),
        EncoderKind.None => throw new ArgumentException("model.encoder none has no layout: the model has no encoder.", nameof(kind)),
    };

    /// <summary>Whether the first block of <paramref name="stage"/> (0-based) projects its shortcut (stride or width changes).</summary>
    public static bool HasShortcut(EncoderKind kind, int stage) => stage > 0 || Layout(kind).Bottleneck;

    public int LowLevelChannels { get; }
    public int HighChannels { get; }

    /// <summary>
    /// The channels of <see cref="Pyramid"/>'s five levels: the stem (stride 2), then layer1 to layer4 (strides 4, 8, 16 and
    /// 32; 16 for the last when the encoder is dilated).
    /// </summary>
    public IReadOnlyList<int> PyramidChannels => new[] { 64, LowLevelChannels, LowLevelChannels * 2, LowLevelChannels * 4, HighChannels };

    /// <summary>The five feature maps of <see cref="PyramidChannels"/>, for decoders that join every level (U-Net, FPN).</summary>
    public Tensor[] Pyramid(Tensor input)
    {
        using var scope = NewDisposeScope();
        var stem = _stem.children().Cast<nn.Module<Tensor, Tensor>>().ToArray();
        var x = _input is null ? input : _input.call(input);
        for (int i = 0; i < stem.Length - 1; i++) x = stem[i].call(x);
        var levels = new Tensor[5];
        levels[0] = x;
        levels[1] = _layer1.call(stem[^1].call(x));
        levels[2] = _layer2.call(levels[1]);
        levels[3] = _layer3.call(levels[2]);
        levels[4] = _layer4.call(levels[3]);
        foreach (var level in levels) level.MoveToOuterDisposeScope();
        return levels;
    }

    /// <summary>The ONNX nodes of <see cref="Pyramid"/>; returns the names of its five levels.</summary>
    internal string[] AddPyramidTo(OnnxGraph graph, string input)
    {
        var stem = _stem.children().ToArray();
        string x = _input is null ? input : graph.Add(_input, input);
        for (int i = 0; i < stem.Length - 1; i++) x = graph.Add(stem[i], x);
        var levels = new string[5];
        levels[0] = x;
        levels[1] = graph.Add(_layer1, graph.Add(stem[^1], x));
        levels[2] = graph.Add(_layer2, levels[1]);
        levels[3] = graph.Add(_layer3, levels[2]);
        levels[4] = graph.Add(_layer4, levels[3]);
        return levels;
    }

    public override (Tensor LowLevel, Tensor High) forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var (low, high) = Features(_input is null ? input : _input.call(input));
        return (low.MoveToOuterDisposeScope(), high.MoveToOuterDisposeScope());
    }

    /// <summary>The network after the input preprocessing (for the ML.NET variant: on BGR-mean-subtracted pixels, in RGB order).</summary>
    internal (Tensor LowLevel, Tensor High) Features(Tensor prepared)
    {
        var low = _layer1.forward(_stem.call(prepared));
        return (low, _layer4.forward(_layer3.forward(_layer2.forward(low))));
    }

    /// <summary>The encoder's ONNX nodes; returns the names of the stride-4 and deepest features.</summary>
    internal (string LowLevel, string High) AddTo(OnnxGraph graph, string input)
    {
        string low = graph.Add(_layer1, graph.Add(_stem, _input is null ? input : graph.Add(_input, input)));
        return (low, graph.Add(_layer4, graph.Add(_layer3, graph.Add(_layer2, low))));
    }

    private static Sequential Stage(ref long channels, long width, int count, int stride, int dilation, bool bottleneck, int expansion, NormKind norm)
    {
        var blocks = new List<nn.Module<Tensor, Tensor>>();
        for (int i = 0; i < count; i++)
        {
            blocks.Add(new ResidualBlock(channels, width, i == 0 ? stride : 1, dilation, bottleneck, expansion, norm));
            channels = width * expansion;
        }
        return nn.Sequential(blocks);
    }
}
