using SegSharp.Runtime;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SegSharp.Training;

/// <summary>
/// What keeps N copies of one model in step during data-parallel training: one start from rank 0's weights, gradients
/// averaged over all processes after every backward (in flat buckets, so a few large all-reduces replace hundreds of
/// small ones), and buffers (batch-norm running statistics) taken from rank 0 after every step, as PyTorch's DDP does
/// by default. Every process then holds the same weights, buffers and optimiser state at every step.
/// </summary>
internal sealed class DataParallel
{
    /// <summary>Gradient bytes per all-reduce: large enough to amortise latency, small enough to stay in cache-sized copies.</summary>
    public const long BucketBytes = 32L << 20;

    private readonly ICollective _collective;
    private readonly IReadOnlyList<IReadOnlyList<Parameter>> _buckets;
    private readonly IReadOnlyList<Tensor> _buffers;

    /// <param name="bucketBytes">Gradient bytes per all-reduce (<see cref="BucketBytes"/>; smaller in tests).</param>
    public DataParallel(nn.Module model, ICollective collective, long bucketBytes = BucketBytes)
    {
        _collective = collective;
        _buckets = Bucket(model.parameters().Where(p => p.requires_grad).ToList(), bucketBytes);
        _buffers = model.buffers().ToList();
    }

    /// <summary>All-reduces per step.</summary>
    public int BucketCount => _buckets.Count;

    /// <summary>Rank 0's parameters and buffers in every process (a fresh start; a resume loads the same checkpoint everywhere).</summary>
    public void BroadcastWeights(nn.Module model)
    {
        if (_collective.Size == 1) return;
        using var noGrad = no_grad();
        foreach (var group in model.parameters().Select(p => (Tensor)p).Concat(_buffers).GroupBy(t => t.dtype))
            BroadcastTogether(group.ToList());
    }

    /// <summary>Sums every gradient over all processes and divides by their number: the gradient of the whole batch's mean loss.</summary>
    public void AverageGradients()
    {
        if (_collective.Size == 1) return;
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        foreach (var bucket in _buckets)
        {
            // Parameters without a gradient (unused in this graph) have none in any process: the graphs are the same.
            var present = bucket.Where(p => p.grad is not null).ToList();
            if (present.Count == 0) continue;
            var flat = cat(present.Select(p => p.grad!.reshape(-1).to(ScalarType.Float32)).ToArray());
            _collective.AllReduceSum(flat);
            flat.div_(_collective.Size);
            long offset = 0;
            foreach (var p in present)
            {
                var grad = p.grad!;
                grad.copy_(flat.narrow(0, offset, grad.numel()).view_as(grad));
                offset += grad.numel();
            }
        }
    }

    /// <summary>Rank 0's batch-norm running statistics in every process, so validation and checkpoints see one model.</summary>
    public void BroadcastBuffers()
    {
        if (_collective.Size == 1 || _buffers.Count == 0) return;
        using var noGrad = no_grad();
        foreach (var group in _buffers.GroupBy(t => t.dtype)) BroadcastTogether(group.ToList());
    }

    /// <summary>The step's mean loss over all processes (what rank 0 reports).</summary>
    public double MeanLoss(double loss)
    {
        if (_collective.Size == 1) return loss;
        Span<double> value = stackalloc double[] { loss };
        _collective.AllReduceSum(value);
        return value[0] / _collective.Size;
    }

    /// <summary>
    /// Whether any process was asked to stop: a signal can reach the processes a step apart, and every one must stop
    /// after the same step.
    /// </summary>
    public bool AnyStop(bool stop)
    {
        if (_collective.Size == 1) return stop;
        Span<long> value = stackalloc long[] { stop ? 1 : 0 };
        _collective.AllReduceSum(value);
        return value[0] > 0;
    }

    private void BroadcastTogether(IReadOnlyList<Tensor> tensors)
    {
        using var scope = NewDisposeScope();
        var flat = cat(tensors.Select(t => t.detach().reshape(-1)).ToArray());
        _collective.Broadcast(flat);
        long offset = 0;
        foreach (var t in tensors)
        {
            t.detach().copy_(flat.narrow(0, offset, t.numel()).view_as(t));
            offset += t.numel();
        }
    }

    private static List<IReadOnlyList<Parameter>> Bucket(IReadOnlyList<Parameter> parameters, long bucketBytes)
    {
        var buckets = new List<IReadOnlyList<Parameter>>();
        var current = new List<Parameter>();
        long bytes = 0;
        foreach (var p in parameters)
        {
            long size = p.numel() * sizeof(float);
            if (current.Count > 0 && bytes + size > bucketBytes)
            {
                buckets.Add(current);
                current = new List<Parameter>();
                bytes = 0;
            }
            current.Add(p);
            bytes += size;
        }
        if (current.Count > 0) buckets.Add(current);
        return buckets;
    }
}
