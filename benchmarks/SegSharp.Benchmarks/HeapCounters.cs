using System.Runtime.InteropServices;

namespace SegSharp.Benchmarks;

/// <summary>
/// Where a process's memory is, by counter rather than by guess: glibc's malloc (bytes in use, in its heaps and in
/// separate mmaps, and bytes freed but still held) from <c>mallinfo2</c>, and the .NET GC's heap and committed bytes.
/// </summary>
/// <param name="MallocInUse">Bytes handed out by malloc and not yet freed (heap chunks plus mmapped chunks): libtorch's tensors live here.</param>
/// <param name="MallocMapped">Of those, bytes in chunks malloc mmapped on their own (returned to the OS when freed).</param>
/// <param name="MallocFreeHeld">Bytes freed to malloc but still held in its heaps (fragmentation; resident if once touched).</param>
/// <param name="ManagedHeap">The GC heap's size after the last collection.</param>
/// <param name="ManagedCommitted">Memory the GC has committed (heap, free space it keeps, bookkeeping).</param>
/// <param name="RssAnonymous">Resident anonymous memory (malloc, the GC, stacks, anything mmapped without a file).</param>
/// <param name="RssFile">Resident file-backed memory (libtorch's and .NET's code, mapped files).</param>
public sealed record HeapCounters(long MallocInUse, long MallocMapped, long MallocFreeHeld, long ManagedHeap, long ManagedCommitted, long RssAnonymous,
    long RssFile)
{
    public static HeapCounters Read()
    {
        var m = mallinfo2();
        var gc = GC.GetGCMemoryInfo();
        return new HeapCounters((long)(m.Uordblks + m.Hblkhd), (long)m.Hblkhd, (long)m.Fordblks, gc.HeapSizeBytes, gc.TotalCommittedBytes,
            MemoryUsage.Status("RssAnon:"), MemoryUsage.Status("RssFile:"));
    }

    public string Describe() =>
        $"malloc in use {MallocInUse / 1e6:F0} MB ({MallocMapped / 1e6:F0} MB mmapped), malloc free but held {MallocFreeHeld / 1e6:F0} MB, " +
        $"GC heap {ManagedHeap / 1e6:F0} MB ({ManagedCommitted / 1e6:F0} MB committed); resident anonymous {RssAnonymous / 1e6:F0} MB, " +
        $"file-backed {RssFile / 1e6:F0} MB";

    [StructLayout(LayoutKind.Sequential)]
    private struct MallInfo2
    {
        public nuint Arena, Ordblks, Smblks, Hblks, Hblkhd, Usmblks, Fsmblks, Uordblks, Fordblks, Keepcost;
    }

    [DllImport("libc", EntryPoint = "mallinfo2")]
    private static extern MallInfo2 mallinfo2();
}
