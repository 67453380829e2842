using System.Runtime;
using System.Runtime.CompilerServices;

namespace SegSharp.Runtime;

/// <summary>
/// Keeps garbage collections, and so finalizers, out of stretches of libtorch calls.
///
/// Why: TorchSharp 0.107 passes temporary <c>Scalar</c> objects (made implicitly from numbers, e.g. in
/// <c>t * 2.0</c> or inside BatchNorm and the optimisers) to native code as raw handles, and dispose scopes do not
/// track them. If a GC runs while native code is using one, its finalizer can free the native scalar underneath
/// the call: libtorch then reads freed memory ("Unknown scalar type", "alpha must not be a floating point
/// number", or silently wrong values). Loader threads allocating image arrays make GCs frequent enough to hit
/// this within minutes (reproduced here in seconds with a synthetic allocator).
///
/// What it does: on entry, drains pending finalizers and starts a no-GC region large enough for a step's
/// allocations; on exit, ends it. No GC means no new finalizer can run during the protected calls. Entries nest
/// and may come from several threads: the region spans from the first entry to the last exit. If the budget is
/// exceeded the runtime collects anyway and the region lapses; the next entry starts a fresh one.
///
/// The budget is learned per call site (the outermost <see cref="Enter"/>'s file and line): its first
/// <see cref="Warmup"/> stretches get the <see cref="Ceiling"/>, later ones twice the most any stretch from that site
/// allocated from its last warm-up stretch on (all threads: the loader's workers allocate during a training step too),
/// at least <see cref="Floor"/>; a stretch that outgrows its budget lapses and raises it.
/// Why not always the ceiling: the runtime keeps a region's budget committed for both small and large objects, and the
/// loader's garbage lives in it until the next region, so a fixed 240 MB held 0.5–1 GB of managed heap through a
/// training run and grew it (docs/performance.md, the peak-RSS target), while the benchmark's ISBI training step
/// allocates 34–54 MB.
/// </summary>
internal static class NativeScalarGuard
{
    /// <summary>The budget of a call site's first stretches, and the most any site gets.</summary>
    public const long Ceiling = 240L << 20;

    /// <summary>The least budget a learned site gets.</summary>
    public const long Floor = 32L << 20;

    /// <summary>Stretches a site runs at the ceiling while its allocation is measured.</summary>
    public const int Warmup = 3;

    private static readonly object Gate = new();
    private static readonly Dictionary<string, SiteUse> Sites = new(StringComparer.Ordinal);
    private static int Depth;
    private static bool Started;
    private static long LapseCount;
    private static string CurrentSite = "";
    private static long AllocatedAtStart;

    private sealed class SiteUse
    {
        public int Stretches;
        public long Largest;
    }

    /// <summary>
    /// Protected stretches that ran without a no-GC region, since the process started: the region could not start
    /// (the heap had no room for the budget, e.g. under a tight <c>DOTNET_GCHeapHardLimit</c>) or a GC ended it early
    /// (the stretch allocated more than the budget). Each is a window for the race described above.
    /// </summary>
    public static long Lapses => Interlocked.Read(ref LapseCount);

    /// <summary>Protects the calls made until the returned value is disposed. The caller's file and line name its budget's site.</summary>
    public static Scope Enter([CallerFilePath] string file = "", [CallerLineNumber] int line = 0)
    {
        lock (Gate)
        {
            if (Depth++ == 0) Start(file + ":" + line.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        return new Scope(true);
    }

    /// <summary>The budget the next outermost stretch from <paramref name="site"/> ("file:line") gets, in bytes.</summary>
    public static long BudgetOf(string site)
    {
        lock (Gate)
        {
            return Sites.TryGetValue(site, out var use) ? BudgetOf(use) : Ceiling;
        }
    }

    /// <summary>Each call site's stretches, largest allocation and budget, e.g. for a benchmark's log.</summary>
    public static IReadOnlyList<(string Site, int Stretches, long Largest, long Budget)> SiteBudgets()
    {
        lock (Gate)
        {
            return Sites.Select(p => (Path.GetFileName(p.Key), p.Value.Stretches, p.Value.Largest, BudgetOf(p.Value))).ToList();
        }
    }

    private static long BudgetOf(SiteUse use) =>
        use.Stretches < Warmup ? Ceiling : Math.Clamp((2 * use.Largest + (1 << 20) - 1) & ~((1L << 20) - 1), Floor, Ceiling);

    private static void Start(string site)
    {
        Started = false;
        CurrentSite = site;
        AllocatedAtStart = GC.GetTotalAllocatedBytes(precise: false);
        if (GCSettings.LatencyMode == GCLatencyMode.NoGCRegion) return;
        if (!Sites.TryGetValue(site, out var use)) Sites[site] = use = new SiteUse();
        try
        {
            Started = GC.TryStartNoGCRegion(BudgetOf(use));
            if (!Started) Lapse();
        }
        catch (InvalidOperationException)
        {
            // Already in a region started elsewhere.
        }
        catch (ArgumentOutOfRangeException)
        {
            Lapse();
        }
        GC.WaitForPendingFinalizers();
    }

    private static void Exit()
    {
        lock (Gate)
        {
            if (--Depth > 0) return;
            if (Sites.TryGetValue(CurrentSite, out var use))
            {
                // Warm-up stretches are not measured: they include start-up bursts (the loader filling its queue) that later steps do not repeat.
                if (use.Stretches++ >= Warmup - 1) use.Largest = Math.Max(use.Largest, GC.GetTotalAllocatedBytes(precise: false) - AllocatedAtStart);
            }
            if (GCSettings.LatencyMode != GCLatencyMode.NoGCRegion)
            {
                if (Started) Interlocked.Increment(ref LapseCount);
                return;
            }
            try
            {
                GC.EndNoGCRegion();
            }
            catch (InvalidOperationException)
            {
                // The budget was exceeded and the runtime collected inside the region.
                if (Started) Interlocked.Increment(ref LapseCount);
            }
        }
    }

    private static void Lapse()
    {
        Interlocked.Increment(ref LapseCount);
        GC.Collect();
    }

    /// <summary>Ends the protection when disposed.</summary>
    public readonly struct Scope : IDisposable
    {
        private readonly bool _active;

        internal Scope(bool active) => _active = active;

        public void Dispose()
        {
            if (_active) Exit();
        }
    }
}
