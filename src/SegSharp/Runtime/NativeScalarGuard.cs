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
        if (GCSettings.LatencyMode == GCLatencyMode.NoGCRegion) return;
        try
        {
            if (!GC.TryStartNoGCRegion(Budget)) GC.Collect();
        }
        catch (InvalidOperationException)
        {
            // Already in a region started elsewhere.
        }
        catch (ArgumentOutOfRangeException)
        {
            GC.Collect();
        }
        GC.WaitForPendingFinalizers();
    }

    private static void Exit()
    {
        lock (Gate)
        {
            if (--Depth > 0) return;
            if (GCSettings.LatencyMode == GCLatencyMode.NoGCRegion)
            {
                try
                {
                    GC.EndNoGCRegion();
                }
                catch (InvalidOperationException)
                {
                    // The budget was exceeded and the runtime already collected; nothing to end.
                }
            }
        }
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
