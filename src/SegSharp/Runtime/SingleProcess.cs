using static TorchSharp.torch;

namespace SegSharp.Runtime;

/// <summary>The collective of a job of one process: every operation leaves its input as it is.</summary>
public sealed class SingleProcess : ICollective
{
    public static readonly SingleProcess Instance = new();

    public int Rank => 0;

    public int Size => 1;

    public string Implementation => "none (one process)";

    public void AllReduceSum(Tensor tensor) { }

    public void AllReduceSum(Span<long> values) { }

    public void AllReduceSum(Span<double> values) { }

    public void Broadcast(Tensor tensor) { }

    public byte[] Broadcast(byte[]? rootBytes) => rootBytes ?? throw new ArgumentNullException(nameof(rootBytes));

    public void Barrier() { }

    public void Abort(int exitCode) => Environment.Exit(exitCode);

    public void Dispose() { }
}
