using System.Diagnostics;
using SegSharp.Configuration;
using SegSharp.Models;
using SegSharp.Runtime;
using SegSharp.Training;
using static TorchSharp.torch;

namespace SegSharp.Benchmarks;

/// <summary>Timed loops on pre-made tensors: the cost of the network alone, without SegSharp's data pipeline.</summary>
public static class Measure
{
    /// <summary>
    /// The reference U-Net: width 32, depth 4, batch norm, transposed-conv upsampling, no encoder (the classic U-Net,
    /// <see cref="ReferenceUNetParameters"/> parameters, as ../shared/peers/torch_unet_bench.py builds it). Since U-Net takes
    /// an encoder, naming one here would measure the ResNet U-Net instead, as the avx512-bf16 table of 2026-12-07 did.
    /// </summary>
    public static ModelConfig ReferenceUNet => new()
    {
        Kind = ModelKind.UNet, Depth = 4, Width = 32, Norm = NormKind.Batch, Upsampling = UpsamplingKind.Transpose, Encoder = EncoderKind.None,
        InputPolicy = InputPolicy.Pad,
    };

    /// <summary>The reference U-Net's size with 3 input channels and 2 classes; the benchmark refuses to report another model under its name.</summary>
    public const long ReferenceUNetParameters = 7_763_074;

    public static OptimizerConfig Adam => new()
    {
        Kind = OptimizerKind.Adam, LR = 1e-3, WeightDecay = 0, Momentum = 0.9, Nesterov = false, Beta1 = 0.9, Beta2 = 0.999, Epsilon = 1e-8,
    };

    /// <summary>SegSharp's U-Net: forward, cross-entropy, backward, Adam step, each step in a dispose scope.</summary>
    public static double TrainImagesPerSecond(int batch, int size, int steps, ScalarType? compute = null)
    {
        using var model = ModelFactory.Create(ReferenceUNet, 3, 2, 1);
        model.ComputeType = compute;
        using var optimizer = OptimizerFactory.Create(Adam, model.parameters());
        return batch / SecondsPerTrainStep(model, optimizer, batch, size, steps, guard: true);
    }

    /// <summary>The same loop over the stock-module <see cref="BareUNet"/> and TorchSharp's own Adam.</summary>
    public static double BareTrainImagesPerSecond(int batch, int size, int steps)
    {
        using var model = new BareUNet(3, 2);
        using var optimizer = optim.Adam(model.parameters(), 1e-3);
        return batch / SecondsPerTrainStep(model, optimizer, batch, size, steps, guard: false);
    }

    public static double SecondsPerTrainStep(nn.Module<Tensor, Tensor> model, optim.Optimizer optimizer, int batch, int size, int steps, bool guard,
        int classes = 2)
    {
        model.train();
        using var input = rand(batch, 3, size, size);
        using var target = randint(0, classes, new long[] { batch, size, size });
        return Time(() =>
        {
            using var g = guard ? NativeScalarGuard.Enter() : default;
            using var scope = NewDisposeScope();
            var loss = nn.functional.cross_entropy(model.forward(input), target);
            optimizer.zero_grad();
            loss.backward();
            optimizer.step();
        }, steps);
    }

    /// <summary>Inference images/s in eval mode (argmax of the logits), with or without autograd recording.</summary>
    public static double InferImagesPerSecond(nn.Module<Tensor, Tensor> model, int batch, int size, int steps, bool noGrad = true, bool calibrate = true)
    {
        using var input = rand(batch, 3, size, size);
        if (calibrate) Calibrate(model, input);
        model.eval();
        return batch / Time(() =>
        {
            using var g = NativeScalarGuard.Enter();
            using var gradMode = noGrad ? no_grad() : enable_grad();
            using var scope = NewDisposeScope();
            model.forward(input).argmax(1);
        }, steps);
    }

    /// <summary>
    /// Gives batch norms realistic running statistics (train-mode forwards without gradients), as a trained model
    /// has. Without this a fresh model in eval mode normalises nothing, deep activations decay into denormal floats
    /// and inference measures the CPU's denormal slow path (3x slower here), not the network.
    /// </summary>
    public static void Calibrate(nn.Module<Tensor, Tensor> model, Tensor input, int passes = 8)
    {
        model.train();
        using var g = NativeScalarGuard.Enter();
        using var noGradient = no_grad();
        for (int pass = 0; pass < passes; pass++)
        {
            using var scope = NewDisposeScope();
            model.forward(input);
        }
    }

    /// <summary>GFLOP/s of one large 3x3 convolution forward (256→256 channels, 64x64, batch 8): the ceiling.</summary>
    public static double ConvolutionCeilingGflops(int steps, ScalarType dtype = ScalarType.Float32)
    {
        using var weight = randn(256, 256, 3, 3).to(dtype);
        using var input = rand(8, 256, 64, 64).to(dtype);
        double flops = 2.0 * 8 * 256 * 256 * 9 * 64 * 64;
        return flops / Time(() =>
        {
            using var noGrad = no_grad();
            using var scope = NewDisposeScope();
            nn.functional.conv2d(input, weight, padding: new long[] { 1, 1 });
        }, steps) / 1e9;
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
}
