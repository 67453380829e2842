using System.Diagnostics;
using SegSharp.Configuration;
using SegSharp.Models;
using SegSharp.Runtime;
using SegSharp.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace SegSharp.Benchmarks;

/// <summary>Timed loops on pre-made tensors: the bare cost of the network, without SegSharp's pipeline.</summary>
public static class Measure
{
    public static ModelConfig ReferenceUNet => new()
    {
        Name = "unet", Depth = 4, Width = 32, Norm = "batch", Upsampling = "transpose", Encoder = "resnet18", InputPolicy = "pad",
    };

    /// <summary>Training images/s: forward, loss, backward, AdamW step, each in a dispose scope.</summary>
    public static double TrainImagesPerSecond(int batch, int size, int steps, bool guard)
    {
        using var model = ModelFactory.Create(ReferenceUNet, 3, 2, 1);
        model.train();
        using var optimizer = OptimizerFactory.Create(new OptimizerConfig { Name = "adamw", LR = 1e-3, WeightDecay = 1e-4, Momentum = 0.9, Nesterov = false, Beta1 = 0.9, Beta2 = 0.999, Epsilon = 1e-8 }, model.parameters());
        using var input = rand(batch, 3, size, size);
        using var target = randint(0, 2, new long[] { batch, size, size });
        var run = () =>
        {
            using var g = guard ? NativeScalarGuard.Enter() : default;
            using var scope = NewDisposeScope();
            var x = input;
            var loss = nn.functional.cross_entropy(model.forward(x), target);
            optimizer.zero_grad();
            loss.backward();
            optimizer.step();
        };
        return batch / Time(run, steps);
    }

    /// <summary>Inference images/s in eval mode without gradients, optionally in bfloat16.</summary>
    public static double InferImagesPerSecond(int batch, int size, int steps, ScalarType dtype = ScalarType.Float32)
    {
        using var model = ModelFactory.Create(ReferenceUNet, 3, 2, 1);
        model.eval();
        model.to(dtype);
        using var input = rand(batch, 3, size, size).to(dtype);
        var run = () =>
        {
            using var g = NativeScalarGuard.Enter();
            using var noGrad = no_grad();
            using var scope = NewDisposeScope();
            var x = input;
            model.forward(x).argmax(1);
        };
        return batch / Time(run, steps);
    }

    /// <summary>GFLOP/s of one large 3x3 convolution forward (256→256 channels, 64x64, batch 8): the ceiling.</summary>
    public static double ConvolutionCeilingGflops(int steps)
    {
        using var conv = nn.Conv2d(256, 256, 3, padding: 1, bias: false);
        using var input = rand(8, 256, 64, 64);
        double flops = 2.0 * 8 * 256 * 256 * 9 * 64 * 64;
        var run = () =>
        {
            using var noGrad = no_grad();
            using var scope = NewDisposeScope();
            conv.forward(input);
        };
        return flops / Time(run, steps) / 1e9;
    }

    /// <summary>Seconds per call, median of <paramref name="steps"/> after two warm-up calls.</summary>
    public static double Time(Action run, int steps)
    {
        run();
        run();
        var times = new List<double>();
        for (int i = 0; i < steps; i++)
        {
            var clock = Stopwatch.StartNew();
            run();
            times.Add(clock.Elapsed.TotalSeconds);
        }
        times.Sort();
        return times[times.Count / 2];
    }

    /// <summary>Peak resident set size of this process in bytes (VmHWM).</summary>
    public static long PeakRss() => ReadStatus("VmHWM:");

    public static long CurrentRss() => ReadStatus("VmRSS:");

    private static long ReadStatus(string key)
    {
        var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith(key, StringComparison.Ordinal));
        return line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
    }
}
