using SegSharp.Runtime;
using SegSharp.Transforms;

namespace SegSharp.Data;

/// <summary>
/// Yields batches for an epoch with background prefetch. Which samples form batch b of epoch e, and how each
/// is augmented, depends only on (seed, e, b): sample order comes from a permutation keyed by (seed, e) and each
/// sample's transforms draw from a generator keyed by (seed, e, position). Worker count and timing change only
/// speed, never content. At most <c>prefetch</c> batches exist ahead of the consumer, so memory is bounded by
/// the queue, not by the dataset.
/// </summary>
public sealed class BatchLoader
{
    private readonly ISegmentationDataset _dataset;
    private readonly TransformPipeline _transforms;
    private readonly long _seed;
    private readonly bool _shuffle;
    private readonly int _workers;
    private readonly int _prefetch;

    public BatchLoader(ISegmentationDataset dataset, TransformPipeline transforms, int batchSize, long seed,
        bool shuffle, int workers, int prefetch, int iterationsPerEpoch = 0)
    {
        if (dataset.Count == 0) throw new SegSharpException($"Dataset '{dataset.Description.Name}' split is empty; adjust the split.");
        _dataset = dataset;
        _transforms = transforms;
        BatchSize = batchSize;
        _seed = seed;
        _shuffle = shuffle;
        _workers = workers;
        _prefetch = Math.Max(1, prefetch);
        // Training drops a last partial batch (batch norm needs more than one sample); evaluation keeps every sample.
        int natural = shuffle && dataset.Count >= batchSize ? dataset.Count / batchSize : (dataset.Count + batchSize - 1) / batchSize;
        BatchesPerEpoch = iterationsPerEpoch > 0 ? iterationsPerEpoch : natural;
    }

    public int BatchSize { get; }
    public int BatchesPerEpoch { get; }
    public ISegmentationDataset Dataset => _dataset;

    /// <summary>Dataset indices of batch <paramref name="batch"/> in epoch <paramref name="epoch"/>.</summary>
    public int[] BatchIndices(int epoch, int batch)
    {
        int count = _dataset.Count;
        var result = new List<int>(BatchSize);
        int start = batch * BatchSize;
        int end = _shuffle ? start + BatchSize : Math.Min(start + BatchSize, count);
        int[]? order = null;
        int orderPass = -1;
        for (int position = start; position < end; position++)
        {
            int pass = position / count;
            if (pass != orderPass)
            {
                order = _shuffle ? SeededRandom.For(_seed, 0x0D0E, epoch, pass).Permutation(count) : Enumerable.Range(0, count).ToArray();
                orderPass = pass;
            }
            result.Add(order![position % count]);
        }
        return result.ToArray();
    }

    /// <summary>Builds batch <paramref name="batch"/> of <paramref name="epoch"/> on the calling thread.</summary>
    public HostBatch Build(int epoch, int batch)
    {
        var indices = BatchIndices(epoch, batch);
        var samples = new Sample[indices.Length];
        for (int i = 0; i < indices.Length; i++)
        {
            long position = (long)batch * BatchSize + i;
            var random = SeededRandom.For(_seed, 0xA06, epoch, position);
            samples[i] = _transforms.Apply(_dataset.Load(indices[i]), random);
        }
        return HostBatch.Collate(epoch, batch, samples);
    }

    /// <summary>Batches <paramref name="startBatch"/>.. of an epoch, in order; resuming mid-epoch starts later.</summary>
    public IEnumerable<HostBatch> Epoch(int epoch, int startBatch = 0, CancellationToken cancellation = default)
    {
        if (_workers == 0)
        {
            for (int b = startBatch; b < BatchesPerEpoch; b++)
            {
                cancellation.ThrowIfCancellationRequested();
                yield return Build(epoch, b);
            }
            yield break;
        }
        foreach (var batch in Prefetched(epoch, startBatch, cancellation)) yield return batch;
    }

    private IEnumerable<HostBatch> Prefetched(int epoch, int startBatch, CancellationToken cancellation)
    {
        int total = BatchesPerEpoch - startBatch;
        if (total <= 0) yield break;
        var slots = new TaskCompletionSource<HostBatch>[total];
        for (int i = 0; i < total; i++) slots[i] = new TaskCompletionSource<HostBatch>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        // A worker takes a window place before it takes the next batch number, so the batches being built are
        // always the lowest ones not yet consumed: the consumer never waits on a batch nobody may build.
        using var window = new SemaphoreSlim(_prefetch, _prefetch);
        int next = -1;
        var workers = Enumerable.Range(0, _workers).Select(_ => Task.Run(() =>
        {
            while (true)
            {
                try
                {
                    window.Wait(stop.Token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                int slot = Interlocked.Increment(ref next);
                if (slot >= total) return;
                try
                {
                    slots[slot].SetResult(Build(epoch, startBatch + slot));
                }
                catch (Exception e)
                {
                    slots[slot].SetException(e);
                }
            }
        })).ToArray();
        try
        {
            for (int i = 0; i < total; i++)
            {
                HostBatch batch;
                try
                {
                    batch = slots[i].Task.WaitAsync(stop.Token).GetAwaiter().GetResult();
                }
                catch (AggregateException e) when (e.InnerExceptions.Count == 1)
                {
                    throw e.InnerExceptions[0];
                }
                slots[i] = null!;
                window.Release();
                yield return batch;
            }
        }
        finally
        {
            stop.Cancel();
            try { Task.WaitAll(workers, CancellationToken.None); } catch (AggregateException) { }
        }
    }
}
