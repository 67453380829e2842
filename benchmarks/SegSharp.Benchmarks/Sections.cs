using SegSharp.Configuration;
using SegSharp.Data;
using SegSharp.Runtime;
using static TorchSharp.torch;

namespace SegSharp.Benchmarks;

public sealed record BareResult(double Train, long PeakRss);

/// <param name="PeakRss">Peak RSS of the float32 training loop, read before the bf16-mixed one runs.</param>
public sealed record TrainResult(double Train, long PeakRss, double Bf16Train);

/// <param name="SegSharpLaidOut">float32 inference in the layout predict's default (memory_format auto) chose, named by <paramref name="Layout"/>.</param>
public sealed record InferResult(double Bare, double SegSharp, double SegSharpBf16, double SegSharpLaidOut, string Layout);

/// <param name="GuardLapses">Protected stretches that ran without the native scalar guard's no-GC region (NativeScalarGuard.Lapses).</param>
public sealed record PipelineResult(IReadOnlyList<EpochSample> Epochs, double BareEpochSeconds, int Iterations, int BatchSize, long GuardLapses);

/// <summary>The sections that run in a fresh process (see <see cref="ChildSection"/>) because their peak RSS is reported.</summary>
public static class Sections
{
    public static void RunChild(string name, string root, int steps, bool quick, int threads)
    {
        switch (name)
        {
            case "bare": ChildSection.Report(Bare(steps)); break;
            case "train": ChildSection.Report(SegSharpTrain(steps)); break;
            case "infer": ChildSection.Report(Infer(steps)); break;
            case "pipeline": ChildSection.Report(Pipeline(root, quick)); break;
            case "onnx": ChildSection.Report(OnnxRuntimeComparison.Run(steps, threads)); break;
            case "loader-bytes": ChildSection.Report(LoaderBytes(root, quick)); break;
            default: throw new ArgumentException($"Unknown benchmark section '{name}' (bare, train, infer, pipeline, onnx).");
        }
    }

    /// <summary>Managed MB the loader allocates per image for the ISBI and CamVid recipes.</summary>
    public static Dictionary<string, double> LoaderBytes(string root, bool quick)
    {
        var result = new Dictionary<string, double>();
        foreach (string recipe in new[] { "isbi-unet", "camvid-deeplab" })
        {
            var config = SegSharpConfig.Load(Path.Combine(root, "configs", recipe + ".yaml"));
            result[recipe] = PipelineRun.LoaderBytesPerImage(config, quick ? 8 : 48) / 1e6;
            Console.Error.WriteLine($"  loader, {recipe}: {result[recipe]:F1} MB allocated per image");
        }
        return result;
    }

    /// <summary>The bare TorchSharp loop: stock-module U-Net, random tensors, b8x128, training then inference.</summary>
    public static BareResult Bare(int steps)
    {
        random.manual_seed(1);
        double train = Measure.BareTrainImagesPerSecond(8, 128, steps);
        return new BareResult(train, MemoryUsage.Peak());
    }

    /// <summary>SegSharp's U-Net in the same loop, b8x128, training only.</summary>
    public static TrainResult SegSharpTrain(int steps)
    {
        random.manual_seed(1);
        double train = Measure.TrainImagesPerSecond(8, 128, steps);
        long peak = MemoryUsage.Peak();
        // bfloat16 only where the CPU has BF16 instructions: elsewhere auto never picks it and oneDNN emulates it slowly.
        double bf16 = CpuKind.HasBfloat16 ? Measure.TrainImagesPerSecond(8, 128, steps, ScalarType.BFloat16) : double.NaN;
        return new TrainResult(train, peak, bf16);
    }

    /// <summary>
    /// Inference b8x128 of the stock-module U-Net and SegSharp's (float32 and bfloat16), in one fresh process, interleaved over three
    /// rounds (best of each), so machine noise and process history affect both alike.
    /// </summary>
    public static InferResult Infer(int steps)
    {
        random.manual_seed(1);
        using var bare = new BareUNet(3, 2);
        using var ours = Models.ModelFactory.Create(Measure.ReferenceUNet, 3, 2, 1);
        double bareBest = 0, oursBest = 0, bf16Best = CpuKind.HasBfloat16 ? 0 : double.NaN, laidOutBest = 0;
        for (int round = 0; round < 3; round++)
        {
            bareBest = Math.Max(bareBest, Measure.InferImagesPerSecond(bare, 8, 128, steps));
            ours.ComputeType = null;
            oursBest = Math.Max(oursBest, Measure.InferImagesPerSecond(ours, 8, 128, steps));
            if (!CpuKind.HasBfloat16) continue;
            ours.ComputeType = ScalarType.BFloat16;
            bf16Best = Math.Max(bf16Best, Measure.InferImagesPerSecond(ours, 8, 128, steps));
            ours.ComputeType = null;
        }
        string layout = Models.ChannelsLast.Apply(ours, MemoryFormat.Auto);
        for (int round = 0; round < 3; round++) laidOutBest = Math.Max(laidOutBest, Measure.InferImagesPerSecond(ours, 8, 128, steps, calibrate: false));
        return new InferResult(bareBest, oursBest, bf16Best, laidOutBest, layout);
    }

    /// <summary>
    /// The ISBI recipe as the pipeline measures it: reference-width U-Net at 8 x 128x128 crops, <paramref name="iterations"/>
    /// steps per epoch, a validation (whole 512x512 images) every <paramref name="validateEvery"/> epochs, no checkpoints
    /// but best.ckpt, written to runs/benchmark/<paramref name="folder"/>.
    /// </summary>
    public static SegSharpConfig PipelineConfig(string root, int epochs, int iterations, int validateEvery, string folder) =>
        SegSharpConfig.Load(Path.Combine(root, "configs", "isbi-unet.yaml"), new[]
        {
            "model.width=32", "transforms.train[1].size=[128, 128]", "train.batch_size=8", $"train.iters_per_epoch={iterations}",
            $"train.epochs={epochs}", $"train.val_every={validateEvery}", "train.checkpoint_every=0",
            $"output.dir={Path.Combine(root, "runs", "benchmark", folder)}",
        });

    /// <summary>
    /// The full pipeline: reference-width U-Net (1 input channel) at 8 x 128x128 crops of the ISBI set with the
    /// recipe's augmentation, validation only after the last epoch; then the same steps on pre-made tensors.
    /// </summary>
    public static PipelineResult Pipeline(string root, bool quick)
    {
        int epochs = quick ? 3 : 11, iterations = quick ? 2 : 6;
        var config = PipelineConfig(root, epochs, iterations, epochs, "pipeline");
        var samples = PipelineRun.Train(config);
        long lapses = NativeScalarGuard.Lapses;
        var description = DatasetFactory.Open(config.Data.Dataset).Description;
        double bare = PipelineRun.BareEpochSeconds(config, description.Channels, description.ClassCount, description.IgnoreIndex,
            128, iterations, quick ? 1 : 3);
        return new PipelineResult(samples, bare, iterations, config.Train.BatchSize, lapses);
    }
}
