using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SegSharp.Benchmarks;

/// <summary>
/// SegSharp's DeepLabV3+ written with TorchSharp's stock modules only (Conv2d, BatchNorm2d, ReLU, MaxPool2d,
/// AdaptiveAvgPool2d, functional interpolate): the "bare TorchSharp" baseline for DeepLab. Same layers as
/// <c>Models/DeepLabV3Plus</c>: ResNet-18/50 at output stride 16 (every 3x3 of the last stage dilated by 2),
/// ASPP 1x1 + rates 6/12/18 + image pooling (no norm there), 48-channel low-level projection, two 3x3x256
/// refine convolutions, 1x1 head, bilinear upsampling.
/// </summary>
public sealed class BareDeepLab : nn.Module<Tensor, Tensor>
{
    private readonly Sequential _stem, _layer1, _layer2, _layer3, _layer4;
    private readonly ModuleList<Sequential> _branches = new();
    private readonly Sequential _pooling, _projection, _lowLevel, _refine;
    private readonly Conv2d _head;

    public BareDeepLab(int classes, bool resnet50) : base(nameof(BareDeepLab))
    {
        int[] blocks = resnet50 ? new[] { 3, 4, 6, 3 } : new[] { 2, 2, 2, 2 };
        int expansion = resnet50 ? 4 : 1;
        _stem = nn.Sequential(nn.Conv2d(3, 64, 7, stride: 2, padding: 3, bias: false), nn.BatchNorm2d(64), nn.ReLU(inplace: true),
            nn.MaxPool2d(3, stride: 2, padding: 1));
        long channels = 64;
        _layer1 = Stage(ref channels, 64, blocks[0], 1, 1, resnet50, expansion);
        _layer2 = Stage(ref channels, 128, blocks[1], 2, 1, resnet50, expansion);
        _layer3 = Stage(ref channels, 256, blocks[2], 2, 1, resnet50, expansion);
        _layer4 = Stage(ref channels, 512, blocks[3], 1, 2, resnet50, expansion);
        _branches.Add(ConvNormRelu(channels, 256, 1, 1));
        foreach (int rate in new[] { 6, 12, 18 }) _branches.Add(ConvNormRelu(channels, 256, 3, rate));
        _pooling = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(channels, 256, 1), nn.ReLU(inplace: true));
        _projection = ConvNormRelu(256 * 5, 256, 1, 1);
        _lowLevel = ConvNormRelu(64 * expansion, 48, 1, 1);
        _refine = nn.Sequential(ConvNormRelu(256 + 48, 256, 3, 1), ConvNormRelu(256, 256, 3, 1));
        _head = nn.Conv2d(256, classes, 1);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var low = _layer1.call(_stem.call(input));
        var high = _layer4.call(_layer3.call(_layer2.call(low)));
        var outputs = _branches.Select(b => b.call(high)).ToList();
        var pooled = _pooling.call(high);
        outputs.Add(pooled.expand(pooled.shape[0], pooled.shape[1], high.shape[2], high.shape[3]));
        var context = _projection.call(cat(outputs, 1));
        var up = nn.functional.interpolate(context, new[] { low.shape[2], low.shape[3] }, mode: InterpolationMode.Bilinear, align_corners: false);
        var logits = _head.call(_refine.call(cat(new[] { up, _lowLevel.call(low) }, 1)));
        return nn.functional.interpolate(logits, new[] { input.shape[2], input.shape[3] }, mode: InterpolationMode.Bilinear, align_corners: false)
            .MoveToOuterDisposeScope();
    }

    private static Sequential ConvNormRelu(long input, long output, long kernel, long dilation) =>
        nn.Sequential(nn.Conv2d(input, output, kernel, padding: kernel / 2 * dilation, dilation: dilation, bias: false), nn.BatchNorm2d(output),
            nn.ReLU(inplace: true));

    private static Sequential Stage(ref long channels, long width, int count, int stride, int dilation, bool bottleneck, int expansion)
    {
        var blocks = new List<nn.Module<Tensor, Tensor>>();
        for (int i = 0; i < count; i++)
        {
            blocks.Add(new Block(channels, width, i == 0 ? stride : 1, dilation, bottleneck, expansion));
            channels = width * expansion;
        }
        return nn.Sequential(blocks);
    }

    private sealed class Block : nn.Module<Tensor, Tensor>
    {
        private readonly Sequential _body;
        private readonly Sequential? _shortcut;
        private readonly int _shortcutStride;

        public Block(long input, long width, int stride, int dilation, bool bottleneck, int expansion) : base(nameof(Block))
        {
            long output = width * expansion;
            _body = bottleneck
                ? nn.Sequential(
                    nn.Conv2d(input, width, 1, bias: false), nn.BatchNorm2d(width), nn.ReLU(inplace: true),
                    nn.Conv2d(width, width, 3, stride: stride, padding: dilation, dilation: dilation, bias: false), nn.BatchNorm2d(width),
                        nn.ReLU(inplace: true),
                    nn.Conv2d(width, output, 1, bias: false), nn.BatchNorm2d(output))
                : nn.Sequential(
                    nn.Conv2d(input, width, 3, stride: stride, padding: dilation, dilation: dilation, bias: false), nn.BatchNorm2d(width),
                        nn.ReLU(inplace: true),
                    nn.Conv2d(width, output, 3, padding: dilation, dilation: dilation, bias: false), nn.BatchNorm2d(output));
            // The shortcut takes every stride-th pixel, then a stride-1 1x1 convolution: the same sums, and what Models/Convolution
            // does, because oneDNN's strided 1x1 backward kills the process with SIGFPE on the virtualised AMD EPYC from 512 inputs on.
            _shortcutStride = stride;
            if (stride != 1 || input != output) _shortcut = nn.Sequential(nn.Conv2d(input, output, 1, bias: false), nn.BatchNorm2d(output));
            RegisterComponents();
        }

        public override Tensor forward(Tensor input)
        {
            using var scope = NewDisposeScope();
            var identity = _shortcut is null ? input
                : _shortcut.call(input.slice(2, 0, input.shape[2], _shortcutStride).slice(3, 0, input.shape[3], _shortcutStride));
            return nn.functional.relu(_body.call(input) + identity).MoveToOuterDisposeScope();
        }
    }
}
