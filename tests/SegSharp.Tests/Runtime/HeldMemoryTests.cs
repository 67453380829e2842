using System.Runtime.InteropServices;
using SegSharp.Runtime;

namespace SegSharp.Tests.Runtime;

public sealed class HeldMemoryTests
{
    private const int Blocks = 64, BlockBytes = 64 * 1024; // below glibc's smallest mmap threshold: they come from a heap

    /// <summary>
    /// Memory freed to malloc stays resident (malloc keeps it for reuse) until Release gives it back: checked page by
    /// page with mincore on the freed blocks themselves, so other tests' allocations cannot disturb it. And the .NET
    /// heap has had a compacting full collection.
    /// </summary>
    [Fact]
    public unsafe void Release_makes_freed_heap_pages_non_resident_and_compacts_the_managed_heap()
    {
        if (!OperatingSystem.IsLinux()) return;
        var blocks = new IntPtr[Blocks];
        for (int i = 0; i < Blocks; i++)
        {
            blocks[i] = Marshal.AllocHGlobal(BlockBytes);
            new Span<byte>((void*)blocks[i], BlockBytes).Fill(1);
        }
        // A block allocated last and kept, so free cannot hand the top of the heap back by itself.
        IntPtr keeper = Marshal.AllocHGlobal(BlockBytes);
        try
        {
            for (int i = 0; i < Blocks; i++) Marshal.FreeHGlobal(blocks[i]);
            int before = ResidentPages(blocks);
            Assert.True(before > Blocks * 12, $"only {before} of the freed blocks' inner pages resident before Release");
            long collectionsBefore = GC.CollectionCount(GC.MaxGeneration);
            HeldMemory.Release();
            // The freed blocks' inner pages (64 KB = 16 pages, less the two that may hold chunk headers) are handed back;
            // a few may be in use again already (other threads allocate meanwhile).
            int after = ResidentPages(blocks);
            Assert.True(after < before / 4, $"{after} of {before} resident pages of the freed blocks still resident after Release");
            Assert.True(GC.CollectionCount(GC.MaxGeneration) > collectionsBefore);
            Assert.True(GC.GetGCMemoryInfo(GCKind.FullBlocking).Compacted);
        }
        finally
        {
            Marshal.FreeHGlobal(keeper);
        }
    }

    /// <summary>Resident pages among the whole pages inside each block (the first and last page may hold malloc's headers).</summary>
    private static unsafe int ResidentPages(IntPtr[] blocks)
    {
        long page = Environment.SystemPageSize;
        int resident = 0;
        var vector = new byte[BlockBytes / page + 2];
        foreach (var block in blocks)
        {
            long start = (block + page - 1) / page * page + page, end = (block + BlockBytes) / page * page - page;
            if (end <= start) continue;
            fixed (byte* v = vector)
                Assert.Equal(0, mincore(checked((IntPtr)start), checked((nuint)(end - start)), v));
            for (long i = 0; i < (end - start) / page; i++) resident += vector[i] & 1;
        }
        return resident;
    }

    [DllImport("libc", SetLastError = true)]
    private static extern unsafe int mincore(IntPtr address, nuint length, byte* vector);
}
