using System.Globalization;
using System.Text;
using System.Text.Json;
using SegSharp.Configuration;

namespace SegSharp.Benchmarks;

/// <summary>The DeepLabV3+ profile of a training step: SegSharp's model and the stock-module baseline.</summary>
public sealed record ProfilePair(ProfileResult SegSharp, ProfileResult Bare);

/// <summary>
/// The DeepLabV3+ part of the benchmark (issue 18): ResNet-18 and ResNet-50 at batch 8 x 256x256, 11 classes,
/// SegSharp against the stock-module baseline and against plain PyTorch 1.13 (../shared/peers), all in one window;
/// a per-layer profile of one ResNet-18 training step. Written to docs/benchmark-deeplab.KIND.json and its own
/// generated block of docs/performance.md.
/// </summary>
public static class DeepLabBenchmark
{

    public static void RunChild(string section, int steps)
    {
        switch (section)
        {
            case "deeplab18": ChildSection.Report(DeepLabComparison.Run(EncoderKind.ResNet18, steps)); break;
            case "deeplab50": ChildSection.Report(DeepLabComparison.Run(EncoderKind.ResNet50, steps)); break;
            case "profile18": ChildSection.Report(Profile(steps)); break;
            default: throw new ArgumentException($"Unknown benchmark section '{section}'.");
        }
    }

    public static void Run(string root, int threads, bool quick, Action<string, string> show)
    {
        var machine = MachineInfo.Read(threads);
        string t = threads.ToString(CultureInfo.InvariantCulture);
        var rows = new List<(DeepLabResult Ours, double? PeerTrain, double? PeerInfer)>();
        foreach (var (section, encoder) in new[] { ("deeplab18", "18"), ("deeplab50", "50") })
        {
            var ours = ChildSection.Run<DeepLabResult>(section, threads, quick);
            double? peerTrain = PeerBenchmark.Run(root, "torch_deeplab_bench.py", "--encoder", encoder, "--threads", t, "--steps", quick ? "1" : "4");
            double? peerInfer = PeerBenchmark.Run(root, "torch_deeplab_bench.py", "--encoder", encoder, "--threads", t, "--steps", quick ? "1" : "6",
                "--infer");
            rows.Add((ours, peerTrain, peerInfer));
            show($"DeepLabV3+ {ours.Encoder} train f32 / bf16 / bare / PyTorch 1.13",
                $"{ours.Train:F2} / {Rate(ours.TrainBf16)} / {ours.BareTrain:F2} / {Rate(peerTrain)} img/s");
            show($"DeepLabV3+ {ours.Encoder} infer f32 / {ours.Layout} / bf16 / bare / PyTorch 1.13",
                $"{ours.Infer:F2} / {ours.InferLaidOut:F2} / {Rate(ours.InferBf16)} / {ours.BareInfer:F2} / {Rate(peerInfer)} img/s");
        }
        var profile = ChildSection.Run<ProfilePair>("profile18", threads, quick);
        Console.WriteLine(profile.SegSharp.Table());
        Console.WriteLine(profile.Bare.Table());
        var targets = Targets(rows).ToList();
        foreach (var target in targets) Console.WriteLine($"{(target.Met ? "MET    " : "NOT MET")} {target.Name}: {target.Measured}");
        if (quick) return;
        var json = new
        {
            measured_at = DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture), machine,
            models = rows.Select(r => new { r.Ours, peer_train = r.PeerTrain, peer_infer = r.PeerInfer }), profile, targets,
        };
        BenchmarkReport.Publish(root, "benchmark-deeplab", machine, JsonSerializer.Serialize(json, BenchmarkReport.JsonOptions),
            Markdown(machine, rows, profile, targets));
        Console.WriteLine($"wrote {BenchmarkReport.JsonName("benchmark-deeplab", machine)} and the DeepLab table of docs/performance.md");
    }

    private static ProfilePair Profile(int steps)
    {
        TorchSharp.torch.random.manual_seed(1);
        using var ours = Models.ModelFactory.Create(DeepLabComparison.Config(EncoderKind.ResNet18), 3, DeepLabComparison.Classes, 1);
        using var bare = new BareDeepLab(DeepLabComparison.Classes, resnet50: false);
        const int batch = DeepLabComparison.Batch, size = DeepLabComparison.Size, classes = DeepLabComparison.Classes;
        return new ProfilePair(LayerProfile.Run("SegSharp R18", ours, batch, size, classes, steps),
            LayerProfile.Run("bare TorchSharp R18", bare, batch, size, classes, steps));
    }

    private static IEnumerable<Target> Targets(List<(DeepLabResult Ours, double? PeerTrain, double? PeerInfer)> rows)
    {
        var r18 = rows[0];
        if (r18.PeerTrain is { } peerTrain)
            yield return new Target("DeepLabV3+ R18 training >= 1.5x plain PyTorch 1.13 (b8x256)", r18.Ours.Train >= 1.5 * peerTrain,
                $"{r18.Ours.Train:F2} vs {peerTrain:F2} img/s ({r18.Ours.Train / peerTrain:F2}x)");
        if (r18.PeerInfer is { } peerInfer)
            yield return new Target("DeepLabV3+ R18 inference (predict's default layout) >= 2x plain PyTorch 1.13 (b8x256)",
                r18.Ours.InferLaidOut >= 2 * peerInfer, $"{r18.Ours.InferLaidOut:F2} vs {peerInfer:F2} img/s ({r18.Ours.InferLaidOut / peerInfer:F2}x)");
        foreach (var (ours, _, _) in rows)
        {
            yield return new Target($"DeepLabV3+ {ours.Encoder} training >= 95% of bare TorchSharp", ours.Train >= 0.95 * ours.BareTrain,
                $"{ours.Train:F2} vs {ours.BareTrain:F2} img/s ({ours.Train / ours.BareTrain:P0})");
            yield return new Target($"DeepLabV3+ {ours.Encoder} inference >= 95% of bare TorchSharp", ours.Infer >= 0.95 * ours.BareInfer,
                $"{ours.Infer:F2} vs {ours.BareInfer:F2} img/s ({ours.Infer / ours.BareInfer:P0})");
        }
    }

    private static string Markdown(MachineInfo machine, List<(DeepLabResult Ours, double? PeerTrain, double? PeerInfer)> rows, ProfilePair profile,
        List<Target> targets)
    {
        var s = new StringBuilder();
        void Line(string text) => s.Append(text).Append('\n');
        Line($"Generated by `dotnet run -c Release --project benchmarks/SegSharp.Benchmarks -- --part deeplab` on {DateTime.UtcNow:yyyy-MM-dd}; raw " +
            $"figures in `{BenchmarkReport.JsonName("benchmark-deeplab", machine)}`. Batch 8 x 256x256, 11 classes, Adam, cross-entropy; PyTorch 1.13 is " +
            "`../shared/peers/torch_deeplab_bench.py`, run by the benchmark in the same window.");
        Line("");
        Line($"Machine: {machine.Describe()}.");
        Line("");
        Line("| DeepLabV3+ | parameters | GFLOP per forward | train f32 / bf16-mixed | bare TorchSharp train | PyTorch 1.13 train | " +
            "infer f32 plain / default layout / bf16 | bare infer | PyTorch 1.13 infer | train / infer conv GFLOP/s (% of ceiling) |");
        Line("|---|---|---|---|---|---|---|---|---|---|");
        foreach (var (o, peerTrain, peerInfer) in rows)
            Line($"| {o.Encoder} | {o.Parameters:N0} | {o.GflopPerImage:F2} | {o.Train:F2} / {Rate(o.TrainBf16)} | {o.BareTrain:F2} | {Rate(peerTrain)} | " +
                $"{o.Infer:F2} / {o.InferLaidOut:F2} / {Rate(o.InferBf16)} | {o.BareInfer:F2} | {Rate(peerInfer)} | " +
                $"{o.TrainGflops:F0} / {o.InferGflops:F0} ({Share(o.TrainGflops, machine)} / {Share(o.InferGflops, machine)}) |");
        Line("");
        Line($"Images/s; n/a = not measured (bfloat16 without BF16 instructions: `precision: auto` never picks it there). The default layout " +
            $"column is the layout `predict` uses by default: {rows[0].Ours.Layout}. Conv GFLOP/s count the float32 forward pass " +
            "(and 3x it for a training step), as a share of the conv ceiling in the machine line.");
        Line("");
        Line("Per-layer profile of one ResNet-18 training step (each layer call timed alone on its own input shape):");
        Line("");
        s.Append(profile.SegSharp.Table()).Append('\n');
        s.Append(profile.Bare.Table()).Append('\n');
        Line("| target | verdict | measured |");
        Line("|---|---|---|");
        foreach (var target in targets) Line($"| {target.Name} | {(target.Met ? "met" : "**not met**")} | {target.Measured} |");
        return s.ToString();
    }

    private static string Rate(double? rate) => BenchmarkReport.Rate(rate);

    private static string Share(double gflops, MachineInfo machine) =>
        machine.CeilingGflops > 0 ? (gflops / machine.CeilingGflops).ToString("P0", CultureInfo.InvariantCulture) : "n/a";
}
