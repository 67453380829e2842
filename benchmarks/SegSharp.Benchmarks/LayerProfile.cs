using System.Text;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SegSharp.Benchmarks;

/// <summary>One kind of layer in a profile: how many calls a training step makes, their forward FLOPs and times.</summary>
public sealed record LayerTiming(string Kind, int Calls, double Gflop, double ForwardMs, double BackwardMs)
{
    public double ForwardGflops => ForwardMs > 0 ? Gflop / (ForwardMs / 1e3) : 0;

    /// <summary>A convolution's backward computes two products (input and weight gradients): 2 x forward FLOPs.</summary>
    public double BackwardGflops => BackwardMs > 0 ? 2 * Gflop / (BackwardMs / 1e3) : 0;
}

/// <summary>A training step's time split by layer kind; what the layers do not explain is listed as the rest.</summary>
public sealed record ProfileResult(string Model, double StepMs, IReadOnlyList<LayerTiming> Layers)
{
    public double LayersMs => Layers.Sum(l => l.ForwardMs + l.BackwardMs);

    public string Table()
    {
        var s = new StringBuilder();
        s.Append($"| {Model}: layer kind | calls | forward GFLOP | forward ms | backward ms | forward GFLOP/s | backward GFLOP/s |\n");
        s.Append("|---|---|---|---|---|---|---|\n");
        foreach (var l in Layers.OrderByDescending(l => l.ForwardMs + l.BackwardMs))
            s.Append($"| {l.Kind} | {l.Calls} | {l.Gflop:F2} | {l.ForwardMs:F0} | {l.BackwardMs:F0} | " +
                (l.Gflop > 0 ? $"{l.ForwardGflops:F0} | {l.BackwardGflops:F0} |\n" : "- | - |\n"));
        s.Append($"| rest of the step (interpolation, concatenation, residual adds, autograd) | | | " +
            $"{StepMs - LayersMs:F0} (step {StepMs:F0} ms) | | | |\n");
        return s.ToString();
    }
}

/// <summary>
/// A per-layer profile of one training step (batch 8 x 256x256): a traced train-mode forward records every leaf
/// layer call (convolution, batch norm, ReLU, pooling) with its input shape; each call is then timed alone,
/// forward and forward+backward, on a random input of that shape (median of a few runs), and the calls are
/// summed by kind (convolutions by kernel, stride and dilation). The loss and the optimiser step are timed the
/// same way. TorchSharp has no profiler; this measures each kernel where the network runs it.
/// </summary>
public static class LayerProfile
{
    private sealed record Call(string Kind, nn.Module<Tensor, Tensor> Module, long[] InputShape, double Gflop);

    public static ProfileResult Run(string name, nn.Module<Tensor, Tensor> model, int batch, int size, int classes, int repeats)
    {
        var calls = Trace(model, batch, size);
        var timings = new Dictionary<string, (int Calls, double Gflop, double Forward, double Backward)>();
        foreach (var call in calls)
        {
            var (forward, backward) = TimeCall(call.Module, call.InputShape, repeats);
            var t = timings.GetValueOrDefault(call.Kind);
            timings[call.Kind] = (t.Calls + 1, t.Gflop + call.Gflop, t.Forward + forward, t.Backward + backward);
        }
        using (var logits = rand(new long[] { batch, classes, size, size }, requires_grad: true))
        using (var target = randint(0, classes, new long[] { batch, size, size }))
        {
            double forward = Measure.Time(() => { using var scope = NewDisposeScope(); nn.functional.cross_entropy(logits, target); }, repeats);
            double both = Measure.Time(() => { using var scope = NewDisposeScope(); nn.functional.cross_entropy(logits, target).backward(); }, repeats);
            timings["loss (cross-entropy)"] = (1, 0, forward * 1e3, Math.Max(0, both - forward) * 1e3);
        }
        using (var optimizer = optim.Adam(model.parameters(), 1e-3))
        {
            foreach (var p in model.parameters()) p.grad = zeros_like(p);
            double step = Measure.Time(() => optimizer.step(), repeats);
            timings["optimiser step (Adam)"] = (1, 0, step * 1e3, 0);
            optimizer.zero_grad();
        }
        double stepMs;
        using (var optimizer = optim.Adam(model.parameters(), 1e-3))
            stepMs = Measure.SecondsPerTrainStep(model, optimizer, batch, size, repeats, guard: false, classes) * 1e3;
        return new ProfileResult(name, stepMs, timings.Select(kv => new LayerTiming(kv.Key, kv.Value.Calls, kv.Value.Gflop, kv.Value.Forward,
            kv.Value.Backward)).ToList());
    }

    private static List<Call> Trace(nn.Module<Tensor, Tensor> model, int batch, int size)
    {
        var calls = new List<Call>();
        var removers = new List<Action>();
        foreach (var module in model.modules().OfType<nn.Module<Tensor, Tensor>>().Where(IsLeaf))
        {
            var remover = module.register_forward_hook((m, input, output) =>
            {
                calls.Add(new Call(Kind(m), m, input.shape, Flops(m, output) * 1e-9));
                return output;
            });
            removers.Add(remover.remove);
        }
        model.train();
        using (var noGrad = no_grad())
        using (var scope = NewDisposeScope()) model.forward(rand(batch, 3, size, size));
        foreach (var remove in removers) remove();
        return calls;
    }

    private static bool IsLeaf(nn.Module module) =>
        module is Models.Convolution or Conv2d or BatchNorm2d or ReLU or MaxPool2d or AdaptiveAvgPool2d;

    private static string Kind(nn.Module module)
    {
        switch (module)
        {
            case Models.Convolution c:
                return ConvolutionKind(c.Weight.shape, c.Strides[0], c.Dilations[0]);
            case Conv2d c:
                return ConvolutionKind(c.weight!.shape, c.stride[0], c.dilation[0]);
            default:
                return module.GetType().Name switch { "BatchNorm2d" => "batch norm", "ReLU" => "ReLU", "MaxPool2d" => "max pool", _ => "image pooling" };
        }
    }

    private static string ConvolutionKind(long[] weight, long stride, long dilation) =>
        $"conv {weight[2]}x{weight[3]}" + (stride > 1 ? $" stride {stride}" : "") + (dilation > 1 ? $" dilation {dilation}" : "");

    private static double Flops(nn.Module module, Tensor output)
    {
        long[]? weight = module switch { Models.Convolution c => c.Weight.shape, Conv2d c => c.weight!.shape, _ => null };
        return weight is null ? 0 : 2.0 * weight[0] * weight[1] * weight[2] * weight[3] * output.shape[0] * output.shape[2] * output.shape[3];
    }

    /// <returns>Forward and backward milliseconds of one call on a random input of <paramref name="shape"/>.</returns>
    private static (double Forward, double Backward) TimeCall(nn.Module<Tensor, Tensor> module, long[] shape, int repeats)
    {
        using var input = rand(shape, requires_grad: true);
        // In-place ReLU cannot run on a leaf that needs a gradient; the out-of-place one costs the same here.
        Func<Tensor, Tensor> apply = module is ReLU ? x => nn.functional.relu(x) : module.call;
        double forward = Measure.Time(() => { using var scope = NewDisposeScope(); apply(input); }, repeats);
        double both = Measure.Time(() =>
        {
            using var scope = NewDisposeScope();
            var output = apply(input);
            output.backward(new[] { ones_like(output) });
        }, repeats);
        return (forward * 1e3, Math.Max(0, both - forward) * 1e3);
    }
}
