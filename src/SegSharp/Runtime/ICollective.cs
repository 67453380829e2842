using static TorchSharp.torch;

namespace SegSharp.Runtime;

/// <summary>
/// The collective operations data-parallel training needs, over the processes of one job (ranks 0..Size-1).
/// Every rank must make the same calls in the same order; a call returns when every rank has made it. Tensors are
/// reduced in place, so an implementation for device memory (NCCL on CUDA tensors) fits the same shape; host
/// values (flags, counts, checkpoint bytes) have their own members so a device implementation can stage them.
/// </summary>
public interface ICollective : IDisposable
{
    int Rank { get; }

    int Size { get; }

    /// <summary>Rank 0: the process that writes files and prints.</summary>
    bool IsRoot => Rank == 0;

    /// <summary>What carries the collectives, for environment.json (e.g. "Open MPI v4.1.4").</summary>
    string Implementation { get; }

    /// <summary>Element-wise sum over all ranks of a contiguous float32 tensor, in place on every rank.</summary>
    void AllReduceSum(Tensor tensor);

    /// <summary>Element-wise sum over all ranks, in place (exact: integer counts).</summary>
    void AllReduceSum(Span<long> values);

    /// <summary>Element-wise sum over all ranks, in place.</summary>
    void AllReduceSum(Span<double> values);

    /// <summary>Rank 0's contents of a contiguous tensor copied into every rank's.</summary>
    void Broadcast(Tensor tensor);

    /// <summary>Rank 0's bytes to every rank; the others pass null and receive them.</summary>
    byte[] Broadcast(byte[]? rootBytes);

    void Barrier();

    /// <summary>Ends every rank of the job with <paramref name="exitCode"/> (after an error on one rank, so none waits forever).</summary>
    void Abort(int exitCode);
}
