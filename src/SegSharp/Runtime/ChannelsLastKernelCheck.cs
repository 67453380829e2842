using TorchSharp;
using static TorchSharp.torch;

namespace SegSharp.Runtime;

/// <summary>
/// A once-per-process check of libtorch's float32 convolutions on channels-last (NHWC-strided) tensors against a float64
/// reference, one finding per family of kernels oneDNN picks: 1x1 (pointwise), spatial (3x3 plain, strided and dilated,
/// the 7x7 stem) and transposed.
///
/// Why: on the virtualised AMD EPYC that <see cref="ConvolutionKernelCheck"/> describes, oneDNN's AVX-512 brgemm 1x1
/// kernel is wrong in channels-last for 512 output channels (a 256→512 or 512→512 1x1 convolution, stride 1 or 2, off by
/// about 0.5 on outputs of order 1), while the plain layout is right and every other family in channels-last matched
/// float64 over 1,360 shapes (2026-12-08; capped at AVX2 the 1x1 kernel is right too). Only inference uses
/// channels-last (<see cref="Models.ChannelsLast"/>): a family found wrong here keeps the plain layout there.
/// The check uses fixed, non-random data (it must not move libtorch's random stream) and costs some 50 ms, paid only
/// by processes that ask for channels-last.
/// </summary>
internal sealed record ChannelsLastKernelCheck(bool PointwiseWrong, bool SpatialWrong, bool TransposedWrong)
{
    private static readonly Lazy<ChannelsLastKernelCheck> Result = new(Run, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>This process's result; the first call runs the check.</summary>
    public static ChannelsLastKernelCheck Current => Result.Value;

    /// <summary>The families found wrong, e.g. "1x1"; empty when all are right.</summary>
    public IReadOnlyList<string> WrongFamilies =>
        new[] { PointwiseWrong ? "1x1" : null, SpatialWrong ? "spatial" : null, TransposedWrong ? "transposed" : null }
            .OfType<string>().ToArray();

    private static ChannelsLastKernelCheck Run()
    {
        TorchRuntime.EnsureLoaded();
        using var guard = NativeScalarGuard.Enter();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        bool pointwise = Wrong(1, 256, 512, 16, 1, stride: 2) || Wrong(2, 256, 512, 16, 1);
        bool spatial = Wrong(2, 64, 64, 16, 3, padding: 1) || Wrong(2, 64, 128, 16, 3, stride: 2, padding: 1)
            || Wrong(2, 64, 64, 16, 3, padding: 2, dilation: 2) || Wrong(1, 3, 64, 32, 7, stride: 2, padding: 3)
            || Wrong(2, 256, 256, 16, 3, padding: 1);
        bool transposed = Wrong(2, 64, 32, 8, 2, stride: 2, transposed: true);
        return new ChannelsLastKernelCheck(pointwise, spatial, transposed);
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
        var actual = Convolve(Models.ChannelsLast.Strided(input.to(ScalarType.Float32)), Models.ChannelsLast.Strided(weight.to(ScalarType.Float32)));
        double error = (actual.to(ScalarType.Float64) - reference).abs().max().item<double>();
        double scale = reference.abs().max().item<double>();
        return !(error <= 1e-4 * Math.Max(scale, 1e-12));
    }

    private static Tensor Pattern(long[] shape, double step) =>
        arange(shape.Aggregate(1L, (a, b) => a * b), dtype: ScalarType.Float64).mul(step).sin().reshape(shape);
}
