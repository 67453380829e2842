using TorchSharp;
using static TorchSharp.torch;

namespace SegSharp.Runtime;

/// <summary>
/// A once-per-process check of libtorch's float32 convolutions on channels-last (NHWC-strided) tensors against a float64
/// reference, for the two families <see cref="Models.ChannelsLast"/> lays out that way: spatial (3x3 plain, strided,
/// dilated and wide, the 7x7 stem) and transposed. A family found wrong keeps the plain layout there.
///
/// 1x1 convolutions are never laid out channels-last: on the virtualised AMD EPYC that <see cref="ConvolutionKernelCheck"/>
/// describes, oneDNN's brgemm 1x1 kernel, which only channels-last reaches, is wrong with AVX-512 for 512 output
/// channels (256→512 and 512→512 off by about 0.5 on outputs of order 1) and kills the process with SIGFPE while
/// choosing its blocking with AVX2 (ResNet-50's wider 1x1 layers), which no in-process check survives. The plain
/// layout's 1x1 kernels are right. Every other family matched float64 in channels-last over 1,360 shapes (2026-12-08).
/// The check uses fixed, non-random data (it must not move libtorch's random stream), costs some 50 ms, and is paid
/// only by processes that ask for channels-last.
/// </summary>
internal sealed record ChannelsLastKernelCheck(bool SpatialWrong, bool TransposedWrong)
{
    private static readonly Lazy<ChannelsLastKernelCheck> Result = new(Run, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>This process's result; the first call runs the check.</summary>
    public static ChannelsLastKernelCheck Current => Result.Value;

    /// <summary>The families found wrong ("spatial", "transposed"); empty when both are right.</summary>
    public IReadOnlyList<string> WrongFamilies =>
        new[] { SpatialWrong ? "spatial" : null, TransposedWrong ? "transposed" : null }.OfType<string>().ToArray();

    private static ChannelsLastKernelCheck Run()
    {
        TorchRuntime.EnsureLoaded();
        using var guard = NativeScalarGuard.Enter();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        bool spatial = Wrong(2, 64, 64, 16, 3, padding: 1) || Wrong(2, 64, 128, 16, 3, stride: 2, padding: 1)
            || Wrong(2, 64, 64, 16, 3, padding: 2, dilation: 2) || Wrong(1, 3, 64, 32, 7, stride: 2, padding: 3)
            || Wrong(2, 256, 256, 16, 3, padding: 1);
        bool transposed = Wrong(2, 64, 32, 8, 2, stride: 2, transposed: true);
        return new ChannelsLastKernelCheck(spatial, transposed);
    }

    /// <summary>Channels-last input and weight in float32 against the plain layout in float64, relative to the output's scale.</summary>
    private static bool Wrong(long batch, long inputs, long outputs, long size, long kernel, long stride = 1, long padding = 0, long dilation = 1,
        bool transposed = false)
    {
        var input = Pattern(new[] { batch, inputs, size, size }, 0.37);
        var weightShape = transposed ? new[] { inputs, outputs, kernel, kernel } : new[] { outputs, inputs, kernel, kernel };
        var weight = Pattern(weightShape, 0.11).div(Math.Sqrt(inputs * kernel * kernel));
        Tensor Convolve(Tensor x, Tensor w) => transposed
            ? nn.functional.conv_transpose2d(x, w, null, new[] { stride, stride }, new[] { padding, padding })
            : nn.functional.conv2d(x, w, null, new[] { stride, stride }, new[] { padding, padding }, new[] { dilation, dilation });
        var reference = Convolve(input, weight);
        var actual = Convolve(Nhwc(input.to(ScalarType.Float32)), Nhwc(weight.to(ScalarType.Float32)));
        double error = (actual.to(ScalarType.Float64) - reference).abs().max().item<double>();
        double scale = reference.abs().max().item<double>();
        return !(error <= 1e-4 * Math.Max(scale, 1e-12));
    }

    // NHWC strides; Models.ChannelsLast.Strided is this (Runtime comes before Models, so the code lives here).
    internal static Tensor Nhwc(Tensor x) => x.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2);

    private static Tensor Pattern(long[] shape, double step) =>
        arange(shape.Aggregate(1L, (a, b) => a * b), dtype: ScalarType.Float64).mul(step).sin().reshape(shape);
}
