using SegSharp.Runtime;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SegSharp.Models;

/// <summary>
/// Synchronised batch norm for data-parallel training: in training mode every <see cref="BatchNorm2d"/> normalises with
/// the mean and variance of the whole batch over all processes, not of its own share, and updates its running
/// statistics with them, so N processes on N shares compute what one process computes on the whole batch. The
/// per-channel sums are all-reduced in the forward pass and, through <see cref="CollectiveSum"/>'s backward, the
/// matching gradient terms in the backward pass.
/// </summary>
/// <remarks>
/// Installed as forward hooks, so the modules, their state-dict names, checkpoints and ONNX export stay those of a plain
/// batch norm. The module's own forward still runs first (its output is replaced and its running-statistics update
/// undone), which costs one extra batch-norm pass per layer; evaluation mode and one-process jobs are untouched.
/// </remarks>
public sealed class SynchronizedBatchNorm : IDisposable
{
    private readonly List<Action> _removers = new();

    private SynchronizedBatchNorm(nn.Module model, ICollective collective)
    {
        foreach (var norm in model.modules().OfType<BatchNorm2d>())
        {
            (Tensor Mean, Tensor Variance)? saved = null;
            var pre = norm.register_forward_pre_hook((module, input) =>
            {
                if (module.training) saved = (norm.running_mean!.detach().clone(), norm.running_var!.detach().clone());
                return input;
            });
            var post = norm.register_forward_hook((module, input, output) =>
            {
                if (!module.training || saved is not { } before) return output;
                saved = null;
                using (before.Mean)
                using (before.Variance)
                    return Normalize(norm, input, before.Mean, before.Variance, collective);
            });
            _removers.Add(pre.remove);
            _removers.Add(post.remove);
        }
    }

    /// <summary>Synchronises every batch norm of <paramref name="model"/> over <paramref name="collective"/> until disposed.</summary>
    public static SynchronizedBatchNorm Install(nn.Module model, ICollective collective) => new(model, collective);

    public void Dispose()
    {
        foreach (var remove in _removers) remove();
        _removers.Clear();
    }

    /// <summary>Batch norm with statistics over all processes: mean first, then the centred second moment (two all-reduces, as exact as one process).</summary>
    internal static Tensor Normalize(BatchNorm2d norm, Tensor input, Tensor runningMean, Tensor runningVariance, ICollective collective)
    {
        var x = input.dtype == ScalarType.Float32 ? input : input.to(ScalarType.Float32);
        long channels = x.shape[1];
        long local = x.numel() / channels;
        using var count = full(new long[] { 1 }, (float)local, dtype: ScalarType.Float32);
        var sums = CollectiveSum.Apply(cat(new[] { x.sum(new long[] { 0, 2, 3 }), count }), collective);
        var total = sums[channels].item<float>();
        var mean = sums.narrow(0, 0, channels) / total;
        var centred = x - mean.view(1, channels, 1, 1);
        var variance = CollectiveSum.Apply((centred * centred).sum(new long[] { 0, 2, 3 }), collective) / total;
        var output = centred * (variance + norm.eps).rsqrt().view(1, channels, 1, 1);
        if (norm.weight is not null) output = output * norm.weight.view(1, channels, 1, 1) + norm.bias!.view(1, channels, 1, 1);
        double momentum = norm.momentum ?? 0.1;
        using (no_grad())
        {
            norm.running_mean!.copy_(runningMean * (1 - momentum) + mean.detach() * momentum);
            norm.running_var!.copy_(runningVariance * (1 - momentum) + variance.detach() * (momentum * total / Math.Max(1, total - 1)));
        }
        return output.dtype == input.dtype ? output : output.to(input.dtype);
    }
}
