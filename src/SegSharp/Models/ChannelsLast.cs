using SegSharp.Configuration;
using SegSharp.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace SegSharp.Models;

/// <summary>
/// Lays an inference-only model out channels-last (<see cref="MemoryFormat"/>). TorchSharp has no memory-format API, but
/// libtorch reads the layout from strides: a weight with NHWC strides makes each convolution run oneDNN's channels-last
/// kernels, whose outputs stay channels-last through norms, activations and the next convolution, instead of reordering
/// every activation to oneDNN's blocked layout and back (about 1.5-2.2x faster inference on the CPUs measured,
/// docs/performance.md). Only inference: training, checkpoints and exports keep the plain layout, and a model laid out
/// here must not be trained or saved (the evaluate, predict and serve commands load their own copy).
///
/// auto uses it only with oneDNN's AVX-512 kernels (<see cref="Faster"/>).
/// Guard: 1x1 convolutions, and families of kernels that <see cref="ChannelsLastKernelCheck"/> finds wrong on this CPU,
/// keep the plain layout (their convolutions get plain inputs), and with <see cref="MemoryFormat.Auto"/> the model's own logits in both layouts
/// are compared on a fixed 256x256 input first: any difference beyond float32 rounding keeps the whole model plain.
/// </summary>
public static class ChannelsLast
{
    /// <summary>Logits may differ by this much relative to their largest magnitude (float32 summation order).</summary>
    public const double Tolerance = 1e-3;

    /// <summary>
    /// Whether auto uses channels-last: with oneDNN's AVX-512 kernels it measured 1.5-2.2x faster inference (AMD EPYC,
    /// avx512-bf16); with its AVX2 kernels (the avx2 kind, measured capped on that machine) it was no faster, often slower.
    /// </summary>
    public static bool Faster => CpuKind.Current is not ("avx2" or "baseline");

    /// <summary>The same values with NHWC strides: <c>x.contiguous(memory_format=torch.channels_last)</c> for a 4-D tensor.</summary>
    public static Tensor Strided(Tensor x) => ChannelsLastKernelCheck.Nhwc(x);

    /// <summary>
    /// Lays <paramref name="model"/> out as <paramref name="requested"/> and says what was chosen and why, for the record
    /// (prediction.json, the evaluation report, serve's GET /model): e.g. "channels_last (1x1 convolutions plain)".
    /// </summary>
    public static string Apply(SegmentationModel model, MemoryFormat requested)
    {
        if (requested == MemoryFormat.Contiguous)
        {
            Lay(model, channelsLast: false, ChannelsLastKernelCheck.Current);
            return "contiguous";
        }
        if (requested == MemoryFormat.Auto && !Faster)
        {
            Lay(model, channelsLast: false, ChannelsLastKernelCheck.Current);
            return $"contiguous (auto: channels-last is used with AVX-512 kernels; this run's are {CpuKind.Current})";
        }
        var check = ChannelsLastKernelCheck.Current;
        string wrong = " (1x1" + string.Concat(check.WrongFamilies.Select(f => $", {f}")) + " convolutions plain)";
        if (requested == MemoryFormat.ChannelsLast)
        {
            Lay(model, channelsLast: true, check);
            return "channels_last" + wrong;
        }
        double difference = SelfCheck(model, check);
        if (difference <= Tolerance) return "channels_last" + wrong;
        Lay(model, channelsLast: false, check);
        return $"contiguous (auto: channels-last logits differed from plain ones by {difference:G3} of their scale on this CPU)";
    }

    private static void Lay(SegmentationModel model, bool channelsLast, ChannelsLastKernelCheck check)
    {
        foreach (var convolution in model.modules().OfType<Convolution>())
        {
            // 1x1 convolutions always stay plain (ChannelsLastKernelCheck says why); so do families the check finds wrong.
            bool wrong = convolution.IsTransposed ? check.TransposedWrong : convolution.IsPointwise || check.SpatialWrong;
            convolution.SetLayout(channelsLast, keepPlain: wrong);
        }
        model.LaidOutChannelsLast = channelsLast;
    }

    /// <summary>
    /// Lays the model out channels-last and returns how far its float32 logits moved from the plain layout's, relative to
    /// their largest magnitude, on a fixed 256x256 pattern.
    /// </summary>
    private static double SelfCheck(SegmentationModel model, ChannelsLastKernelCheck check)
    {
        using var guard = NativeScalarGuard.Enter();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var compute = model.ComputeType;
        bool training = model.training;
        try
        {
            model.ComputeType = null;
            model.eval();
            long size = (256 + model.Stride - 1) / model.Stride * model.Stride;
            long count = model.InputChannels * size * size;
            var input = arange(count, dtype: ScalarType.Float32).mul(0.0137).sin().mul(0.5).add(0.5).reshape(1, model.InputChannels, size, size);
            Lay(model, channelsLast: false, check);
            var plain = model.forward(input);
            Lay(model, channelsLast: true, check);
            var laid = model.forward(input);
            double scale = Math.Max(plain.abs().max().item<float>(), 1e-6);
            double difference = (laid - plain).abs().max().item<float>() / scale;
            return double.IsFinite(difference) ? difference : double.PositiveInfinity;
        }
        finally
        {
            model.ComputeType = compute;
            model.train(training);
        }
    }
}
