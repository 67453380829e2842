using System.Globalization;
using System.Text;
using System.Text.Json;
using SegSharp.Configuration;
using SegSharp.Evaluation;
using SegSharp.Foundation;
using SegSharp.Runtime;

namespace SegSharp.Benchmarks;

/// <summary>One long run's memory: every epoch's sample, and whether the scalar guard ever lapsed.</summary>
/// <param name="ValidationEpochs">The epochs that ended with a validation.</param>
public sealed record LongRun(string Name, IReadOnlyList<EpochSample> Epochs, IReadOnlyList<int> ValidationEpochs, long GuardLapses)
{
    /// <summary>Peak RSS after <paramref name="epoch"/>, or 0 when the run has no such epoch.</summary>
    public long PeakAfter(int epoch) => Epochs.FirstOrDefault(e => e.Epoch == epoch)?.PeakRss ?? 0;

    public long FinalPeak => Epochs.Count == 0 ? 0 : Epochs[^1].PeakRss;

    /// <summary>Growth of the peak from <paramref name="from"/> to the last epoch, as a fraction.</summary>
    public double Growth(int from) => PeakAfter(from) > 0 ? FinalPeak / (double)PeakAfter(from) - 1 : double.NaN;
}

/// <summary>
/// The long-run memory part (issue 32; not in CI, about 15 minutes on 2 cores): the ISBI pipeline of the U-Net part
/// for 50 epochs with a validation every 10, and the CamVid DeepLabV3+ recipe (its model, data, augmentation and
/// batch; fewer steps per epoch) for 8 epochs with a validation every 2, each in its own process. RSS, peak RSS and
/// the allocators' counters are sampled at every epoch end, written to docs/benchmark-memory.KIND.json, plotted to
/// docs/benchmark-memory.KIND.png and checked against the issue's targets in docs/performance.md.
/// </summary>
public static class MemoryBenchmark
{
    public const string IsbiSection = "memory-isbi", CamVidSection = "memory-camvid";


    public static void RunChild(string section, string root, bool quick)
    {
        switch (section)
        {
            case IsbiSection: ChildSection.Report(Isbi(root, quick)); break;
            case CamVidSection: ChildSection.Report(CamVid(root, quick)); break;
            default: throw new ArgumentException($"Unknown benchmark section '{section}'.");
        }
    }

    public static void Run(string root, int threads, bool quick, Action<string, string> show)
    {
        var machine = MachineInfo.Read(threads);
        var runs = new List<LongRun>();
        foreach (string section in new[] { IsbiSection, CamVidSection })
        {
            var run = ChildSection.Run<LongRun>(section, threads, quick);
            runs.Add(run);
            show($"{run.Name}: peak RSS after epoch 2 / last", $"{run.PeakAfter(2) / 1e9:F3} / {run.FinalPeak / 1e9:F3} GB ({run.Growth(2):+0.0%;-0.0%})");
        }
        var targets = Targets(runs[0], runs[1]).ToList();
        foreach (var target in targets) Console.WriteLine($"{(target.Met ? "MET    " : "NOT MET")} {target.Name}: {target.Measured}");
        if (quick) return;
        string chart = $"docs/benchmark-memory.{machine.Kind}.png";
        AtomicFile.WriteAllBytes(Path.Combine(root, chart), Chart(runs, machine.Kind));
        var json = new
        {
            measured_at = DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture), machine, runs, targets,
        };
        BenchmarkReport.Publish(root, "benchmark-memory", machine, JsonSerializer.Serialize(json, BenchmarkReport.JsonOptions),
            Markdown(runs, targets, Path.GetFileName(chart)));
        Console.WriteLine($"wrote {BenchmarkReport.JsonName("benchmark-memory", machine)}, {chart} and the memory table of docs/performance.md");
    }

    /// <summary>The U-Net part's pipeline (<see cref="Sections.PipelineConfig"/>), 50 epochs, validating every 10.</summary>
    private static LongRun Isbi(string root, bool quick)
    {
        int epochs = quick ? 3 : 50, every = quick ? 2 : 10;
        var config = Sections.PipelineConfig(root, epochs, quick ? 2 : 6, every, "memory-isbi");
        var samples = PipelineRun.Train(config);
        return new LongRun("ISBI U-Net pipeline", samples, Validations(epochs, every), NativeScalarGuard.Lapses);
    }

    /// <summary>configs/camvid-deeplab.yaml as it is, but 10 steps per epoch, 8 epochs and a validation every 2.</summary>
    private static LongRun CamVid(string root, bool quick)
    {
        int epochs = quick ? 2 : 8, every = 2;
        var config = SegSharpConfig.Load(Path.Combine(root, "configs", "camvid-deeplab.yaml"), new[]
        {
            $"train.iters_per_epoch={(quick ? 2 : 10)}", $"train.epochs={epochs}", $"train.val_every={every}", "train.checkpoint_every=0",
            $"output.dir={Path.Combine(root, "runs", "benchmark", "memory-camvid")}",
        });
        var samples = PipelineRun.Train(config);
        return new LongRun("CamVid DeepLabV3+ recipe", samples, Validations(epochs, every), NativeScalarGuard.Lapses);
    }

    private static List<int> Validations(int epochs, int every) => Enumerable.Range(1, epochs).Where(e => e % every == 0 || e == epochs).ToList();

    private static IEnumerable<Target> Targets(LongRun isbi, LongRun camvid)
    {
        yield return new Target("ISBI pipeline peak RSS <= 1.3 GB over 50 epochs", isbi.FinalPeak <= 1.3e9, $"{isbi.FinalPeak / 1e9:F3} GB");
        yield return new Target("ISBI pipeline peak RSS grows <= 5% from epoch 2 to the last", isbi.Growth(2) <= 0.05,
            $"{isbi.PeakAfter(2) / 1e9:F3} -> {isbi.FinalPeak / 1e9:F3} GB ({isbi.Growth(2):+0.0%;-0.0%})");
        yield return new Target("CamVid DeepLabV3+ recipe peak RSS <= 2 GB", camvid.FinalPeak <= 2e9, $"{camvid.FinalPeak / 1e9:F3} GB");
        int first = camvid.ValidationEpochs.Count > 0 ? camvid.ValidationEpochs[0] : 1;
        yield return new Target("CamVid recipe flat after its first validation (peak grows <= 5%)", camvid.Growth(first) <= 0.05,
            $"{camvid.PeakAfter(first) / 1e9:F3} GB after epoch {first} -> {camvid.FinalPeak / 1e9:F3} GB ({camvid.Growth(first):+0.0%;-0.0%})");
        yield return new Target("every training step inside the no-GC region", isbi.GuardLapses + camvid.GuardLapses == 0,
            $"{isbi.GuardLapses + camvid.GuardLapses} lapses");
    }

    private static byte[] Chart(IReadOnlyList<LongRun> runs, string kind)
    {
        string[] colours = ["#1f77b4", "#ff7f0e"];
        var series = new List<ChartSeries>();
        for (int i = 0; i < runs.Count; i++)
        {
            series.Add(new ChartSeries($"{runs[i].Name}: peak RSS", runs[i].Epochs.Select(e => ((double)e.Epoch, e.PeakRss / 1e9)).ToList(), colours[i]));
            series.Add(new ChartSeries($"{runs[i].Name}: RSS", runs[i].Epochs.Select(e => ((double)e.Epoch, e.Rss / 1e9)).ToList(), colours[i] + "88"));
        }
        return ChartImage.Png(new ReportChart("", $"Memory at every epoch end ({kind})", "GB", series));
    }

    private static string Markdown(IReadOnlyList<LongRun> runs, IReadOnlyList<Target> targets, string chart)
    {
        var s = new StringBuilder();
        s.Append(CultureInfo.InvariantCulture, $"![RSS and peak RSS at every epoch end of both runs]({chart})\n\n");
        s.Append("| run | epochs (validated) | peak RSS after epoch 2 / first validation / last | RSS at the last epoch end | ");
        s.Append("malloc in use / held, GC committed at the end |\n");
        s.Append("|---|---|---|---|---|\n");
        foreach (var run in runs)
        {
            int first = run.ValidationEpochs.Count > 0 ? run.ValidationEpochs[0] : 1;
            var last = run.Epochs[^1];
            s.Append(CultureInfo.InvariantCulture,
                $"| {run.Name} | {run.Epochs.Count} ({string.Join(", ", run.ValidationEpochs)}) | {run.PeakAfter(2) / 1e9:F3} / " +
                $"{run.PeakAfter(first) / 1e9:F3} / {run.FinalPeak / 1e9:F3} GB | {last.Rss / 1e9:F3} GB | " +
                $"{last.Heaps.MallocInUse / 1e6:F0} / {last.Heaps.MallocFreeHeld / 1e6:F0} MB, {last.Heaps.ManagedCommitted / 1e6:F0} MB |\n");
        }
        s.Append("\n| target | | measured |\n|---|---|---|\n");
        foreach (var target in targets)
            s.Append(CultureInfo.InvariantCulture, $"| {target.Name} | {(target.Met ? "met" : "**not met**")} | {target.Measured} |\n");
        return s.ToString();
    }
}
