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
            // 320 MB of live arrays: more than a new site's 240 MB budget, so the runtime must collect inside it.
            var keep = new List<byte[]>();
            for (int i = 0; i < 320; i++) keep.Add(new byte[1 << 20]);
            GC.KeepAlive(keep);
        }
        Assert.True(NativeScalarGuard.Lapses > before, $"lapses {before} -> {NativeScalarGuard.Lapses}");
    }

    /// <summary>
    /// Each call site learns its budget: the ceiling while it is measured, then twice its largest stretch (rounded up
    /// to a megabyte, at least the floor); a stretch past the learned budget lapses, and the budget grows to cover it.
    /// </summary>
    [Fact]
    public void A_call_site_s_budget_is_twice_its_largest_stretch_after_the_warmup_and_grows_after_a_lapse()
    {
        string big = "", small = "";
        for (int i = 0; i < NativeScalarGuard.Warmup; i++)
        {
            Assert.Equal(NativeScalarGuard.Ceiling, NativeScalarGuard.BudgetOf(big.Length == 0 ? "none yet" : big));
            big = BigStretch(40);
            small = SmallStretch(4);
        }
        Assert.InRange(NativeScalarGuard.BudgetOf(big), 80L << 20, 82L << 20);
        Assert.Equal(NativeScalarGuard.Floor, NativeScalarGuard.BudgetOf(small));

        long before = NativeScalarGuard.Lapses;
        SmallStretch(100);
        Assert.Equal(before + 1, NativeScalarGuard.Lapses);
        Assert.InRange(NativeScalarGuard.BudgetOf(small), 200L << 20, 202L << 20);
    }

    private static string BigStretch(int megabytes)
    {
        var (guard, site) = (NativeScalarGuard.Enter(), Site());
        using (guard) Allocate(megabytes);
        return site;
    }

    private static string SmallStretch(int megabytes)
    {
        var (guard, site) = (NativeScalarGuard.Enter(), Site());
        using (guard) Allocate(megabytes);
        return site;
    }

    private static void Allocate(int megabytes)
    {
        var keep = new List<byte[]>();
        for (int i = 0; i < megabytes; i++) keep.Add(new byte[1 << 20]);
        GC.KeepAlive(keep);
    }

    private static string Site([System.Runtime.CompilerServices.CallerFilePath] string file = "",
        [System.Runtime.CompilerServices.CallerLineNumber] int line = 0) => file + ":" + line.ToString(System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public void Libtorch_reports_deterministic_mode_after_enabling_it()
    {
        Assert.True(DeterministicMode.TryEnable());
        Assert.True(DeterministicMode.IsEnabled());
    }
}
