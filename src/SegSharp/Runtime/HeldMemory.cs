using System.Runtime.InteropServices;

namespace SegSharp.Runtime;

/// <summary>
/// Gives back memory the allocators hold for reuse, at the boundary between phases whose tensors differ in shape.
/// glibc's malloc keeps a training step's freed activations (about half a gigabyte for the ISBI recipe) for the next
/// step; validation on whole images asks for larger blocks that this free memory cannot serve, so it comes on top,
/// and the process's peak memory became training's held memory plus validation's working set plus whatever the .NET
/// heap happened to hold at that moment: a running maximum that rose at every validation of a long run. The trainer
/// releases before each validation and at each epoch's end (measured in docs/performance.md, "Memory over a long run").
/// </summary>
public static class HeldMemory
{
    /// <summary>
    /// Compacts the .NET heap and releases its free space, and returns malloc's free memory to the system
    /// (<c>malloc_trim</c>; nothing outside glibc). Call between phases, never
    /// inside a training step (the native scalar guard's no-GC region); the next step faults the memory it needs back in.
    /// </summary>
    public static void Release()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        if (!OperatingSystem.IsLinux()) return;
        try
        {
            _ = malloc_trim(0);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // Not glibc: nothing to trim this way.
        }
    }

    [DllImport("libc", EntryPoint = "malloc_trim")]
    private static extern int malloc_trim(nuint pad);
}
