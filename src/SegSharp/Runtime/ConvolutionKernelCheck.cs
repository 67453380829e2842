using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace SegSharp.Runtime;

/// <summary>
/// A once-per-process check of libtorch's CPU convolution kernels against a float64 reference, for a defect that
/// gives silently wrong numbers.
///
/// Why: on a virtualised AMD EPYC (Zen 5 feature flags, Firecracker VM, no cache topology in sysfs) the oneDNN JIT
/// kernels in libtorch 2.10 return wrong results whenever a convolution's output-channel count is not a multiple
/// of 16: the float32 gradient with respect to the input (e.g. 26.3 off on values of order 10, sometimes NaN) and
/// the bfloat16 output. Float32 outputs and weight gradients are right, and so is everything at 16, 32, 64...
/// channels. The same build is right on an Intel Xeon with AVX-512. Capping oneDNN's ISA at AVX2 does not help
/// (same defect at 8 channels); SSE4.1 does, at a third of the speed.
///
/// What SegSharp does: when this check finds the defect, SegSharp's Convolution module (Models stage) pads the affected
/// convolutions' output channels with zero filters up to the next multiple of 16 and slices them off again. The
/// extra channels are zero in the output and get zero gradient, so results equal the unpadded convolution's; the
/// cost is confined to layers with few channels. The check itself uses fixed, non-random data (it must not move
/// libtorch's random stream) and one thread, where the defect is deterministic.
/// </summary>
internal sealed record ConvolutionKernelCheck(bool Float32InputGradientWrong, bool Bfloat16OutputWrong)
{
    /// <summary>The output-channel multiple the kernels handle correctly.</summary>
    public const int ChannelMultiple = 16;

    private static readonly Lazy<ConvolutionKernelCheck> Result = new(Run, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>This process's result; the first call runs the check (a few milliseconds).</summary>
    public static ConvolutionKernelCheck Current => Result.Value;

    /// <summary>One line for the run's environment record and the CLI.</summary>
    public string Describe() => (Float32InputGradientWrong, Bfloat16OutputWrong) switch
    {
        (false, false) => "convolution kernels agree with the float64 reference",
        _ => "this CPU's convolution kernels are wrong for output channels not a multiple of 16 (" +
             string.Join(", ", new[] { Float32InputGradientWrong ? "float32 input gradient" : null, Bfloat16OutputWrong ? "bfloat16 output" : null }
                 .Where(s => s is not null)) +
             "); SegSharp pads those convolutions to 16-channel multiples, so results stay exact",
    };

    private static ConvolutionKernelCheck Run()
    {
        TorchRuntime.EnsureLoaded();
        int threads = torch.get_num_threads();
        using var guard = NativeScalarGuard.Enter();
        try
        {
            torch.set_num_threads(1);
            return new ConvolutionKernelCheck(Float32GradientWrong(), Bfloat16Wrong());
        }
        finally
        {
            torch.set_num_threads(threads);
        }
    }

    // 16 input channels, 8 output channels (the failing case), 32x32: small enough to cost nothing.
    private static (Tensor Input, Tensor Weight, Tensor OutputGradient) Operands()
    {
        var input = arange(2 * 16 * 32 * 32, dtype: ScalarType.Float64).mul(0.37).sin().reshape(2, 16, 32, 32);
        var weight = arange(8 * 16 * 9, dtype: ScalarType.Float64).mul(0.11).cos().reshape(8, 16, 3, 3);
        var outputGradient = arange(2 * 8 * 32 * 32, dtype: ScalarType.Float64).mul(0.23).sin().reshape(2, 8, 32, 32);
        return (input, weight, outputGradient);
    }

    private static bool Float32GradientWrong()
    {
        using var scope = NewDisposeScope();
        using var grad = enable_grad();
        var (input64, weight64, outputGradient64) = Operands();
        var padding = new long[] { 1, 1 };

        var input = input64.to(ScalarType.Float32).requires_grad_(true);
        var output = nn.functional.conv2d(input, weight64.to(ScalarType.Float32), padding: padding);
        output.mul(outputGradient64.to(ScalarType.Float32)).sum().backward();

        var reference = input64.detach().clone().requires_grad_(true);
        nn.functional.conv2d(reference, weight64, padding: padding).mul(outputGradient64).sum().backward();
        return RelativeError(input.grad!.to(ScalarType.Float64), reference.grad!) > 1e-3;
    }

    private static bool Bfloat16Wrong()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var (input64, weight64, _) = Operands();
        var padding = new long[] { 1, 1 };
        try
        {
            var output = nn.functional.conv2d(input64.to(ScalarType.BFloat16), weight64.to(ScalarType.BFloat16), padding: padding);
            // Reference: the same bfloat16-rounded operands convolved in float64.
            var reference = nn.functional.conv2d(input64.to(ScalarType.BFloat16).to(ScalarType.Float64),
                weight64.to(ScalarType.BFloat16).to(ScalarType.Float64), padding: padding);
            return RelativeError(output.to(ScalarType.Float64), reference) > 2e-2;
        }
        catch (ExternalException)
        {
            return false; // No bfloat16 convolution here at all: nothing to work around; using it fails on its own.
        }
    }

    private static double RelativeError(Tensor actual, Tensor expected)
    {
        double error = (actual - expected).abs().max().item<double>();
        double scale = expected.abs().max().item<double>();
        return double.IsFinite(error) ? error / Math.Max(scale, 1e-12) : double.PositiveInfinity;
    }
}
