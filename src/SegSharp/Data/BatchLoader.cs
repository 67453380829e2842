using SegSharp.Runtime;

namespace SegSharp.Data;

/// <summary>
/// Yields batches for an epoch with background prefetch. Which samples form batch b of epoch e, and how each
/// is augmented, depends only on (seed, e, b): sample order comes from a permutation keyed by (seed, e) and each
/// sample's transforms draw from a generator keyed by (seed, e, position). Worker count and timing change only
/// speed, never content. At most <c>prefetch</c> batches exist ahead of the consumer, so memory is bounded by
/// the queue, not by the dataset. In data-parallel training each process builds its share of every batch (see
/// <see cref="BatchLoader(ISegmentationDataset, ISampleTransform, int, long, bool, int, int, int, int, int, string)"/>): the
/// batch as a whole is the one a single process would build, whatever the number of processes.
/// </summary>
public sealed class BatchLoader
{
    private readonly ISegmentationDataset _dataset;
    private readonly ISampleTransform _transforms;
    private readonly long _seed;
    private readonly bool _shuffle;
    private readonly int _workers;
    private readonly int _prefetch;
    private readonly int _shard;
    private readonly string _batchSizeKey;

    /// <param name="batchSize">Samples per batch over all processes.</param>
    /// <param name="shard">This process's part of each batch: samples [shard × size / shards, (shard + 1) × size / shards).</param>
    /// <param name="shards">Processes sharing each batch; must divide <paramref name="batchSize"/>.</param>
    /// <param name="batchSizeKey">The config key that set <paramref name="batchSize"/>, named when samples of two sizes meet in a batch.</param>
    public BatchLoader(ISegmentationDataset dataset, ISampleTransform transforms, int batchSize, long seed,
        bool shuffle, int workers, int prefetch, int iterationsPerEpoch = 0, int shard = 0, int shards = 1, string batchSizeKey = "the batch size")
    {
        _batchSizeKey = batchSizeKey;
        if (dataset.Count == 0) throw new SegSharpException($"Dataset '{dataset.Description.Name}' split is empty; adjust the split.");
        if (shards < 1 || batchSize % shards != 0 || shard < 0 || shard >= shards)
            throw new ArgumentOutOfRangeException(nameof(shards), shards, $"must divide the batch size {batchSize} and exceed shard {shard}");
        _shard = shard;
        LocalBatchSize = batchSize / shards;
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

    /// <summary>Samples per batch over all processes.</summary>
    public int BatchSize { get; }

    /// <summary>Samples per batch this process builds.</summary>
    public int LocalBatchSize { get; }
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

    /// <summary>Builds this process's share of batch <paramref name="batch"/> of <paramref name="epoch"/> on the calling thread.</summary>
    public HostBatch Build(int epoch, int batch)
    {
        var indices = BatchIndices(epoch, batch);
        int first = Math.Min(indices.Length, _shard * LocalBatchSize), end = Math.Min(indices.Length, first + LocalBatchSize);
        var samples = new Sample[end - first];
        for (int i = first; i < end; i++)
        {
            // The generator is keyed by the sample's place in the whole batch, so a shard augments exactly as one process would.
            long position = (long)batch * BatchSize + i;
            var random = SeededRandom.For(_seed, 0xA06, epoch, position);
            samples[i - first] = _transforms.Apply(_dataset.Load(indices[i]), random);
        }
        return HostBatch.Collate(epoch, batch, samples, _batchSizeKey);
    }

    /// <summary>
    /// Batches <paramref name="batches"/> of <paramref name="epoch"/>, in that order, with the same prefetch as
    /// <see cref="Epochs"/> (a process's share of the validation batches, for example).
    /// </summary>
    public IEnumerable<HostBatch> Batches(int epoch, IReadOnlyList<int> batches, CancellationToken cancellation = default) =>
        Stream(batches.Count, i => (epoch, batches[(int)i]), cancellation);

    /// <summary>Batches <paramref name="startBatch"/>.. of an epoch, in order; resuming mid-epoch starts later.</summary>
    public IEnumerable<HostBatch> Epoch(int epoch, int startBatch = 0, CancellationToken cancellation = default) =>
        Epochs(epoch, startBatch, epoch + 1, BatchesPerEpoch, cancellation);

    /// <summary>
    /// The batches of epochs <paramref name="startEpoch"/> to <paramref name="endEpoch"/> - 1 as one stream,
    /// <paramref name="batchesPerEpoch"/> each, starting at <paramref name="startBatch"/> of the first. Prefetch runs
    /// across epoch boundaries, so the next epoch's first batches are built while the trainer validates and
    /// checkpoints; content is still a function of (seed, epoch, batch) only.
    /// </summary>
    public IEnumerable<HostBatch> Epochs(int startEpoch, int startBatch, int endEpoch, int batchesPerEpoch, CancellationToken cancellation = default)
    {
        if (batchesPerEpoch <= 0 || batchesPerEpoch > BatchesPerEpoch)
            throw new ArgumentOutOfRangeException(nameof(batchesPerEpoch), batchesPerEpoch, $"must be in 1..{BatchesPerEpoch}");
        long total = (long)(endEpoch - startEpoch) * batchesPerEpoch - startBatch;
        (int Epoch, int Batch) At(long i) => (startEpoch + (int)((startBatch + i) / batchesPerEpoch), (int)((startBatch + i) % batchesPerEpoch));
        foreach (var batch in Stream(total, At, cancellation)) yield return batch;
    }

    /// <summary>Batches <c>at(0)</c>..<c>at(total - 1)</c> in order: built on the calling thread without workers, else prefetched.</summary>
    private IEnumerable<HostBatch> Stream(long total, Func<long, (int Epoch, int Batch)> at, CancellationToken cancellation)
    {
        if (_workers > 0)
        {
            foreach (var batch in Prefetched(total, at, cancellation)) yield return batch;
            yield break;
        }
        for (long i = 0; i < total; i++)
        {
            cancellation.ThrowIfCancellationRequested();
            var (epoch, batch) = at(i);
            yield return Build(epoch, batch);
        }
    }

    private IEnumerable<HostBatch> Prefetched(long total, Func<long, (int Epoch, int Batch)> at, CancellationToken cancellation)
    {
        if (total <= 0) yield break;
        // Slots are created on demand and dropped once consumed: a long run never holds more than the window.
        var slots = new System.Collections.Concurrent.ConcurrentDictionary<long, TaskCompletionSource<HostBatch>>();
        TaskCompletionSource<HostBatch> Slot(long i) =>
            slots.GetOrAdd(i, _ => new TaskCompletionSource<HostBatch>(TaskCreationOptions.RunContinuationsAsynchronously));
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        // A worker takes a window place before it takes the next batch number, so the batches being built are
        // always the lowest ones not yet consumed: the consumer never waits on a batch nobody may build.
        using var window = new SemaphoreSlim(_prefetch, _prefetch);
        long next = -1;
        // Workers block (on the window) for the whole run, so they get their own threads (LongRunning) rather than
        // pool threads: blocked pool threads starve everything else queued to the pool (image decoding's own
        // parallel loops, continuations) until the pool injects threads, about one every half second.
        var workers = Enumerable.Range(0, _workers).Select(_ => Task.Factory.StartNew(() =>
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
                long slot = Interlocked.Increment(ref next);
                if (slot >= total) return;
                try
                {
                    var (epoch, batch) = at(slot);
                    Slot(slot).SetResult(Build(epoch, batch));
                }
                catch (Exception e)
                {
                    Slot(slot).SetException(e);
                }
            }
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)).ToArray();
        try
        {
            for (long i = 0; i < total; i++)
            {
                HostBatch batch;
                try
                {
                    // A blocking wait, not WaitAsync(...).GetResult(): that needs a pool thread to run its
                    // continuation before the consumer can wake.
                    var slot = Slot(i).Task;
                    slot.Wait(stop.Token);
                    batch = slot.Result;
                }
                catch (AggregateException e) when (e.InnerExceptions.Count == 1)
                {
                    throw e.InnerExceptions[0];
                }
                slots.TryRemove(i, out _);
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
