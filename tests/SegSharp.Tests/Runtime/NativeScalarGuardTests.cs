using SegSharp.Runtime;
using static TorchSharp.torch;

namespace SegSharp.Tests.Runtime;

public class NativeScalarGuardTests
{
    [Fact]
    public void Scalar_arithmetic_stays_correct_under_heavy_allocation_on_another_thread()
    {
        using var x = rand(64);
        using var expected = x * 2.0;
        var stop = false;
        var noise = new Thread(() =>
        {
            var keep = new List<byte[]>();
            while (!Volatile.Read(ref stop))
            {
                keep.Add(new byte[200_000]);
                if (keep.Count > 20) keep.Clear();
                Thread.Sleep(1);
            }
        });
        noise.Start();
        int wrong = 0;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            while (clock.Elapsed < TimeSpan.FromSeconds(3))
            {
                using var guard = NativeScalarGuard.Enter();
                for (int i = 0; i < 100; i++)
                {
                    using var scope = NewDisposeScope();
                    if (!x.mul(2.0).equal(expected).all().item<bool>() || !x.add(x, alpha: 1.0).equal(expected).all().item<bool>()) wrong++;
                }
            }
        }
        finally
        {
            Volatile.Write(ref stop, true);
            noise.Join();
        }
        Assert.Equal(0, wrong);
    }

    [Fact]
    public void A_stretch_that_allocates_past_the_budget_counts_as_a_lapse()
    {
        long before = NativeScalarGuard.Lapses;
        using (var guard = NativeScalarGuard.Enter())
        {
            // 320 MB of live arrays: more than the region's 240 MB budget, so the runtime must collect inside it.
            var keep = new List<byte[]>();
            for (int i = 0; i < 320; i++) keep.Add(new byte[1 << 20]);
            GC.KeepAlive(keep);
        }
        Assert.True(NativeScalarGuard.Lapses > before, $"lapses {before} -> {NativeScalarGuard.Lapses}");
    }

    [Fact]
    public void Libtorch_reports_deterministic_mode_after_enabling_it()
    {
        Assert.True(DeterministicMode.TryEnable());
        Assert.True(DeterministicMode.IsEnabled());
    }
}
