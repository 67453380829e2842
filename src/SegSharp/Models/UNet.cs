using SegSharp.Configuration;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SegSharp.Models;

/// <summary>
/// U-Net (Ronneberger et al. 2015): <c>depth</c> max-pool downsamplings with a <see cref="ConvBlock"/> per level,
/// widths doubling from <c>width</c>; upsampling by 2x2 transposed conv or bilinear + 1x1 conv; skip
/// concatenation; 1x1 head. Output stride is 2^depth. With 3 input channels, 2 classes, width 32, depth 4,
/// transposed conv and batch norm it has 7,763,074 parameters.
/// </summary>
public sealed class UNet : SegmentationModel
{
    private readonly ModuleList<ConvBlock> _encoders = new();
    private readonly ModuleList<nn.Module<Tensor, Tensor>> _upsamplers = new();
    private readonly ModuleList<ConvBlock> _decoders = new();
    private readonly MaxPool2d _pool = nn.MaxPool2d(2);
    private readonly Convolution _head;

    public UNet(int inputChannels, int classes, int depth = 4, int width = 32, NormKind norm = NormKind.Batch,
        UpsamplingKind upsampling = UpsamplingKind.Transpose, bool padInputs = true)
        : base(nameof(UNet), inputChannels, classes, 1 << depth, padInputs)
    {
        long channels = inputChannels;
        for (int level = 0; level <= depth; level++)
        {
            long output = (long)width << level;
            _encoders.Add(new ConvBlock(channels, output, norm));
            channels = output;
        }
        for (int level = depth - 1; level >= 0; level--)
        {
            long output = (long)width << level;
            _upsamplers.Add(upsampling == UpsamplingKind.Transpose
                ? Convolution.Transposed(channels, output, 2, stride: 2)
                : nn.Sequential(nn.Upsample(scale_factor: new[] { 2.0, 2.0 }, mode: UpsampleMode.Bilinear, align_corners: false),
                    Convolution.Plain(channels, output, 1)));
            _decoders.Add(new ConvBlock(output * 2, output, norm));
            channels = output;
        }
        _head = Convolution.Plain(channels, classes, 1);
        RegisterComponents();
    }

    /// <summary>
    /// The parameter count of the U-Net these arguments build, computed without building it (so a width or depth too
    /// large for memory is refused before anything is allocated); equal to the built model's count.
    /// </summary>
    public static double ParameterCount(int inputChannels, int classes, int depth, int width, NormKind norm, UpsamplingKind upsampling)
    {
        double perOutput = (Norms.ConvBias(norm) ? 1 : 0) + (norm == NormKind.None ? 0 : 2);
        double Block(double input, double output) => 9 * input * output + 9 * output * output + 2 * perOutput * output;
        double total = 0, channels = inputChannels;
        for (int level = 0; level <= depth; level++)
        {
            double output = width * Math.Pow(2, level);
            total += Block(channels, output);
            channels = output;
        }
        for (int level = depth - 1; level >= 0; level--)
        {
            double output = width * Math.Pow(2, level);
            total += (upsampling == UpsamplingKind.Transpose ? 4 : 1) * channels * output + output + Block(2 * output, output);
            channels = output;
        }
        return total + channels * classes + classes;
    }

    /// <remarks>
    /// Each tensor is disposed as soon as nothing reads it again (autograd keeps what backward needs on its own), so a
    /// pass holds the skips and its working set instead of every activation until the end: that is most of what
    /// validating whole images costs in memory.
    /// </remarks>
    protected override Tensor ForwardAligned(Tensor input)
    {
        using var scope = NewDisposeScope();
        var skips = new List<Tensor>();
        var x = input;
        for (int i = 0; i < _encoders.Count; i++)
        {
            if (i == 0)
            {
                x = _encoders[i].call(x);
            }
            else
            {
                using var pooled = _pool.call(x);
                x = _encoders[i].call(pooled);
            }
            skips.Add(x);
        }
        for (int i = 0; i < _decoders.Count; i++)
        {
            // x is the deepest skip or the last decoder output: read for the last time here.
            using (var previous = x)
            using (var skip = skips[skips.Count - 2 - i])
            using (var up = _upsamplers[i].call(previous))
            using (var joined = cat(new[] { skip, up }, 1))
                x = _decoders[i].call(joined);
        }
        using (x) return _head.call(x).MoveToOuterDisposeScope();
    }

    internal override string AddAlignedTo(OnnxGraph graph, string input)
    {
        var skips = new List<string>();
        string x = input;
        for (int i = 0; i < _encoders.Count; i++)
        {
            if (i > 0) x = graph.Add(_pool, x);
            x = graph.Add(_encoders[i], x);
            skips.Add(x);
        }
        for (int i = 0; i < _decoders.Count; i++)
        {
            x = graph.Add(_upsamplers[i], x);
            x = graph.Add(_decoders[i], graph.Node("Concat", new[] { skips[skips.Count - 2 - i], x }, OnnxGraph.Attribute("axis", 1)));
        }
        return graph.Add(_head, x);
    }
}
