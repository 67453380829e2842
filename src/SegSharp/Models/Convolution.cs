using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using SegSharp.Runtime;

namespace SegSharp.Models;

/// <summary>
/// A 2-D convolution (plain or transposed) whose parameters stay float32 but which can compute in a narrower type:
/// with <see cref="ComputeType"/> set to bfloat16 it casts input, weight and bias down, convolves, and casts the
/// result back to the input's type. That is what PyTorch's autocast does for convolutions (TorchSharp has no
/// autocast): master weights and their gradients stay float32, everything between convolutions (norms, ReLU,
/// pooling, the loss) stays float32, and only the FLOP-heavy part runs on the CPU's bfloat16 units.
/// Parameters are registered as <c>weight</c> and <c>bias</c>, created and initialised by TorchSharp's own
/// Conv2d/ConvTranspose2d, so checkpoints and initial weights are the same as with those modules.
/// </summary>
public sealed class Convolution : nn.Module<Tensor, Tensor>
{
    private readonly Parameter _weight;
    private readonly Parameter? _bias;
    private readonly long[] _stride, _padding, _dilation, _outputPadding;
    private readonly bool _transposed;

    private Convolution(Conv2d? plain, ConvTranspose2d? transposed) : base(nameof(Convolution))
    {
        TorchSharp.Modules.Convolution source = (TorchSharp.Modules.Convolution?)plain ?? transposed!;
        _transposed = transposed is not null;
        _weight = new Parameter(source.weight.detach().clone());
        _bias = source.bias is null ? null : new Parameter(source.bias.detach().clone());
        _stride = source.stride;
        _padding = source.padding ?? new long[] { 0, 0 };
        _dilation = source.dilation;
        _outputPadding = source.output_padding ?? new long[] { 0, 0 };
        register_parameter("weight", _weight);
        if (_bias is not null) register_parameter("bias", _bias);
        source.Dispose();
    }

    /// <summary>True for a transposed (up-sampling) convolution.</summary>
    public bool IsTransposed => _transposed;

    // The logical parameters and geometry, for export: never the channel padding added inside a forward pass.
    internal Parameter Weight => _weight;
    internal Parameter? Bias => _bias;
    internal long[] Strides => _stride;
    internal long[] Padding => _padding;
    internal long[] Dilations => _dilation;
    internal long[] OutputPadding => _outputPadding;

    /// <summary>The type convolutions compute in; null = the input's own type (float32).</summary>
    public ScalarType? ComputeType { get; set; }

    /// <summary>A 1x1 convolution (not transposed): the family oneDNN runs with its pointwise kernels.</summary>
    internal bool IsPointwise => !_transposed && _weight.shape[2] == 1 && _weight.shape[3] == 1;

    // Set by ChannelsLast for a family whose channels-last kernels are wrong on this CPU: the input is made plain
    // (libtorch picks channels-last kernels whenever input or weight is channels-last).
    private bool _plainInput;

    /// <summary>
    /// Lays the weight out for inference (<see cref="ChannelsLast"/>): channels-last strides, or plain ones with plain inputs
    /// when <paramref name="keepPlain"/> (a family whose channels-last kernels are wrong here), or plain as trained.
    /// The values are the same; only the strides change, so checkpoints and exports read the same logical weights.
    /// </summary>
    internal void SetLayout(bool channelsLast, bool keepPlain)
    {
        using var noGrad = no_grad();
        using var laid = channelsLast && !keepPlain ? ChannelsLast.Strided(_weight.detach()) : _weight.detach().contiguous();
        _weight.set_(laid);
        _plainInput = channelsLast && keepPlain;
    }

    /// <summary>A 3x3-style convolution, as <c>Convolution.Plain(input, output, kernel, stride, padding, dilation, bias)</c>.</summary>
    public static Convolution Plain(long input, long output, long kernel, long stride = 1, long padding = 0, long dilation = 1, bool bias = true) =>
        new(nn.Conv2d(input, output, kernel, stride: stride, padding: padding, dilation: dilation, bias: bias), null);

    /// <summary>A transposed convolution, as <c>nn.ConvTranspose2d(input, output, kernel, stride)</c>.</summary>
    public static Convolution Transposed(long input, long output, long kernel, long stride) =>
        new(null, nn.ConvTranspose2d(input, output, kernel, stride: stride));

    /// <returns>Shape [N, output, H', W'], in the input's type.</returns>
    public override Tensor forward(Tensor input)
    {
        if (SubsamplesFirst) input = input.slice(2, 0, input.shape[2], _stride[0]).slice(3, 0, input.shape[3], _stride[1]);
        if (_plainInput) input = input.contiguous();
        if (ComputeType is not { } compute || compute == input.dtype) return Convolve(input, _weight, _bias);
        using var scope = NewDisposeScope();
        var result = Convolve(input.to(compute), _weight.to(compute), _bias?.to(compute));
        return result.to(input.dtype).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// A strided 1x1 convolution without padding (a ResNet shortcut) reads every stride-th pixel: <see cref="forward"/> takes
    /// those pixels first and convolves at stride 1, the same sums. Why: oneDNN 3.7's strided backward-data kernel for
    /// 1x1 convolutions divides by zero while choosing its blocking on the virtualised AMD EPYC (SIGFPE in
    /// brg_blocking_t::est_eff_1x1, the process dies) from 512 input channels on, e.g. ResNet-50's 512→1024 shortcut,
    /// with or without the AVX2 cap (2026-12-08); the stride-1 kernels are fine.
    /// </summary>
    private bool SubsamplesFirst => !_transposed && IsPointwise && (_stride[0] > 1 || _stride[1] > 1) && _padding[0] == 0 && _padding[1] == 0;

    private Tensor Convolve(Tensor input, Tensor weight, Tensor? bias)
    {
        if (_transposed) return nn.functional.conv_transpose2d(input, weight, bias, _stride, _padding, _outputPadding, _dilation);
        var stride = SubsamplesFirst ? new long[] { 1, 1 } : _stride;
        long outputs = weight.shape[0];
        long extra = NeedsChannelPadding(input, outputs) ? ConvolutionKernelCheck.ChannelMultiple - outputs % ConvolutionKernelCheck.ChannelMultiple : 0;
        if (extra == 0) return nn.functional.conv2d(input, weight, bias, stride, _padding, _dilation);
        // Work around the kernel defect ConvolutionKernelCheck describes: zero filters up to a multiple of 16, then
        // drop their (all-zero) outputs. Gradients reach only the real filters.
        using var scope = NewDisposeScope();
        var paddedWeight = nn.functional.pad(weight, new[] { 0L, 0, 0, 0, 0, 0, 0, extra });
        var paddedBias = bias is null ? null : nn.functional.pad(bias, new[] { 0L, extra });
        return nn.functional.conv2d(input, paddedWeight, paddedBias, stride, _padding, _dilation).narrow(1, 0, outputs).MoveToOuterDisposeScope();
    }

    private static bool NeedsChannelPadding(Tensor input, long outputs)
    {
        if (outputs % ConvolutionKernelCheck.ChannelMultiple == 0) return false;
        var check = ConvolutionKernelCheck.Current;
        return input.dtype == ScalarType.BFloat16
            ? check.Bfloat16OutputWrong
            : check.Float32InputGradientWrong && input.requires_grad && is_grad_enabled();
    }
}
