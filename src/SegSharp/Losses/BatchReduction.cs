using SegSharp.Runtime;
using static TorchSharp.torch;

namespace SegSharp.Losses;

/// <summary>
/// Where a loss's batch-level sums come from. A loss that normalises (a mean over valid pixels, a weighted mean, Dice's
/// ratio of sums) computes its sums over the pixels it holds and passes them through <see cref="Sum"/>: on one process
/// they are returned as they are; in data-parallel training (<see cref="Across"/>) every process gets the sums of the
/// whole batch, with a gradient that makes the averaged update exactly the one-process update (<see cref="CollectiveSum"/>).
/// So the N processes minimise the loss of the whole batch, not the mean of N smaller batches' losses; a new loss gets
/// this by sending its sums through here, in one call (one all-reduce) where it can.
/// </summary>
public sealed class BatchReduction
{
    private readonly ICollective? _collective;

    private BatchReduction(ICollective? collective) => _collective = collective;

    /// <summary>This process holds the whole batch.</summary>
    public static BatchReduction Local { get; } = new(null);

    /// <summary>The batch is split over <paramref name="collective"/>'s processes (every one must compute the same loss terms).</summary>
    public static BatchReduction Across(ICollective collective) => collective.Size == 1 ? Local : new(collective);

    /// <summary>The whole batch's sums from this process's <paramref name="localSums"/> (any shape; computed in float32 across processes).</summary>
    public Tensor Sum(Tensor localSums)
    {
        if (_collective is null) return localSums;
        var summed = CollectiveSum.Apply(localSums.to(ScalarType.Float32), _collective);
        return summed.dtype == localSums.dtype ? summed : summed.to(localSums.dtype);
    }
}
