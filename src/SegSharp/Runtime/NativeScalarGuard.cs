using System.Runtime;

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
/// </summary>
internal static class NativeScalarGuard
{
    private const long Budget = 240L << 20;
    private static readonly object Gate = new();
    private static int Depth;
    private static bool Started;
    private static long LapseCount;

    /// <summary>
    /// Protected stretches that ran without a no-GC region, since the process started: the region could not start
    /// (the heap had no room for the budget, e.g. under a tight <c>DOTNET_GCHeapHardLimit</c>) or a GC ended it early
    /// (the stretch allocated more than the budget). Each is a window for the race described above.
    /// </summary>
    public static long Lapses => Interlocked.Read(ref LapseCount);

    /// <summary>Protects the calls made until the returned value is disposed.</summary>
    public static Scope Enter()
    {
        lock (Gate)
        {
            if (Depth++ == 0) Start();
        }
        return new Scope(true);
    }

    private static void Start()
    {
        Started = false;
        if (GCSettings.LatencyMode == GCLatencyMode.NoGCRegion) return;
        try
        {
            Started = GC.TryStartNoGCRegion(Budget);
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
