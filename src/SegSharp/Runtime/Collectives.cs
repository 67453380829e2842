namespace SegSharp.Runtime;

/// <summary>The collective a process belongs to: Open MPI's when mpirun started it, otherwise a job of one.</summary>
public static class Collectives
{
    public static ICollective FromEnvironment() => OpenMpi.Launched ? OpenMpi.Initialize() : SingleProcess.Instance;
}
