namespace SegSharp.Runtime;

/// <summary>
/// What a training process sets up once, before any training object exists: libtorch's intra-op threads (split between
/// the processes of an mpirun job that share a machine) and deterministic algorithms. It is process-global state, so the
/// caller that owns the process applies it (the training workflow, a test, a notebook), not the trainer.
/// </summary>
public static class ProcessPolicy
{
    /// <summary>Applies the policy and returns the intra-op threads now in use.</summary>
    /// <param name="threads"><c>train.threads</c>: 0 lets libtorch choose (one process) or splits this process's cores (several).</param>
    /// <param name="collective">The processes of the job; one process when null.</param>
    public static int Apply(int threads, ICollective? collective = null)
    {
        int size = collective?.Size ?? 1;
        int used = TorchRuntime.ConfigureThreads(threads == 0 && size > 1 ? CoresPerProcess() : threads);
        DeterministicMode.TryEnable();
        return used;
    }

    /// <summary>
    /// libtorch threads per process when several share a machine: the cores this process may run on, divided among the
    /// machine's processes unless mpirun already bound each to its own cores.
    /// </summary>
    private static int CoresPerProcess()
    {
        int allowed = Environment.ProcessorCount;
        bool bound = CpuInfo.OnlineCores is int online && allowed < online;
        return Math.Max(1, bound ? allowed : allowed / OpenMpi.LocalSize);
    }
}
