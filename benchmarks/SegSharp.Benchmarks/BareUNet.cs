using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SegSharp.Benchmarks;

/// <summary>
/// The reference U-Net written with TorchSharp's stock modules only (Conv2d, BatchNorm2d, ReLU, MaxPool2d,
/// ConvTranspose2d): the "bare TorchSharp loop" the pipeline is compared with. Same layers and parameter
/// count as SegSharp's UNet (7,763,074 with 3 input channels, 2 classes, width 32, depth 4).
/// </summary>
public sealed class BareUNet : nn.Module<Tensor, Tensor>
{
    private readonly ModuleList<Sequential> _encoders = new();
    private readonly ModuleList<ConvTranspose2d> _upsamplers = new();
    private readonly ModuleList<Sequential> _decoders = new();
    private readonly MaxPool2d _pool = nn.MaxPool2d(2);
    private readonly Conv2d _head;

    public BareUNet(int inputChannels, int classes, int depth = 4, int width = 32) : base(nameof(BareUNet))
    {
        long channels = inputChannels;
        for (int level = 0; level <= depth; level++)
        {
            long output = (long)width << level;
            _encoders.Add(Block(channels, output));
            channels = output;
        }
        for (int level = depth - 1; level >= 0; level--)
        {
            long output = (long)width << level;
            _upsamplers.Add(nn.ConvTranspose2d(channels, output, 2, stride: 2));
            _decoders.Add(Block(output * 2, output));
            channels = output;
        }
        _head = nn.Conv2d(channels, classes, 1);
        RegisterComponents();
    }

    private static Sequential Block(long input, long output) => nn.Sequential(
        nn.Conv2d(input, output, 3, padding: 1, bias: false), nn.BatchNorm2d(output), nn.ReLU(inplace: true),
        nn.Conv2d(output, output, 3, padding: 1, bias: false), nn.BatchNorm2d(output), nn.ReLU(inplace: true));

    public override Tensor forward(Tensor input)
    {
        var skips = new List<Tensor>();
        var x = input;
        for (int i = 0; i < _encoders.Count; i++)
        {
            if (i > 0) x = _pool.forward(x);
            x = _encoders[i].forward(x);
            skips.Add(x);
        }
        for (int i = 0; i < _decoders.Count; i++)
        {
            x = _upsamplers[i].forward(x);
            x = _decoders[i].forward(cat(new[] { skips[skips.Count - 2 - i], x }, 1));
        }
        return _head.forward(x);
    }
}
