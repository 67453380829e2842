using System.Runtime.InteropServices;
using SegSharp.Runtime;
using static TorchSharp.torch;

namespace SegSharp.Tests.Runtime;

/// <summary>
/// A job of <c>size</c> ranks on threads of the test process, with an <see cref="ICollective"/> per rank: what Open MPI
/// does between processes, done with a barrier and shared slots, summing in rank order. Lets unit tests run the
/// collective code paths (gradient averaging, synchronised batch norm, sharded validation) on tiny tensors.
/// </summary>
public sealed class ThreadGroup
{
    private readonly Barrier _barrier;
    private readonly object?[] _slots;

    private ThreadGroup(int size)
    {
        Size = size;
        _barrier = new Barrier(size);
        _slots = new object?[size];
    }

    public int Size { get; }

    /// <summary>Runs <paramref name="body"/> once per rank, each on its own thread, and returns the results in rank order.</summary>
    public static T[] Run<T>(int size, Func<ICollective, T> body)
    {
        var group = new ThreadGroup(size);
        var results = new T[size];
        var errors = new Exception?[size];
        var threads = Enumerable.Range(0, size).Select(rank => new Thread(() =>
        {
            try
            {
                results[rank] = body(new Member(group, rank));
            }
            catch (Exception e)
            {
                errors[rank] = e;
                group._barrier.Dispose();
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        if (errors.FirstOrDefault(e => e is not null) is { } error) throw new AggregateException(error);
        return results;
    }

    private T[] Exchange<T>(int rank, T[] mine, Func<T[][], T[]> combine)
    {
        _slots[rank] = mine;
        _barrier.SignalAndWait();
        var result = combine(_slots.Cast<T[]>().ToArray());
        _barrier.SignalAndWait();
        return result;
    }

    private sealed class Member(ThreadGroup group, int rank) : ICollective
    {
        public int Rank => rank;

        public int Size => group.Size;

        public string Implementation => $"test threads ({group.Size})";

        public void AllReduceSum(Tensor tensor)
        {
            var values = MemoryMarshal.Cast<byte, float>(tensor.bytes).ToArray();
            var sum = group.Exchange(rank, values, all => Sum(all, (a, b) => a + b));
            sum.AsSpan().CopyTo(MemoryMarshal.Cast<byte, float>(tensor.bytes));
        }

        public void AllReduceSum(Span<long> values) => group.Exchange(rank, values.ToArray(), all => Sum(all, (a, b) => a + b)).CopyTo(values);

        public void AllReduceSum(Span<double> values) => group.Exchange(rank, values.ToArray(), all => Sum(all, (a, b) => a + b)).CopyTo(values);

        public void Broadcast(Tensor tensor)
        {
            var root = group.Exchange(rank, tensor.bytes.ToArray(), all => all[0]);
            root.AsSpan().CopyTo(tensor.bytes);
        }

        public byte[] Broadcast(byte[]? rootBytes) => group.Exchange(rank, rootBytes ?? Array.Empty<byte>(), all => all[0]);

        public void Barrier() => group.Exchange(rank, Array.Empty<byte>(), all => all[0]);

        public void Abort(int exitCode) => throw new InvalidOperationException($"rank {rank} aborted the job with {exitCode}");

        public void Dispose() { }

        private static T[] Sum<T>(T[][] all, Func<T, T, T> add)
        {
            var result = (T[])all[0].Clone();
            for (int r = 1; r < all.Length; r++)
                for (int i = 0; i < result.Length; i++) result[i] = add(result[i], all[r][i]);
            return result;
        }
    }
}
