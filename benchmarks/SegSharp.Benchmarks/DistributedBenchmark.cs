using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using SegSharp.Configuration;
using SegSharp.Models;
using SegSharp.Runtime;
using SegSharp.Training;
using static TorchSharp.torch;

namespace SegSharp.Benchmarks;

/// <summary>One rank's view of data-parallel training steps: the global batch's images/s and where a step's time goes.</summary>
public sealed record DataParallelSteps(int Ranks, int ThreadsPerRank, int GlobalBatch, double ImagesPerSecond, double StepSeconds, double AllReduceSeconds);

/// <summary>Averaging one model's gradients over 2 ranks (<see cref="DataParallel.AverageGradients"/>), median seconds.</summary>
public sealed record AllReduceTime(string Model, long GradientBytes, int Buckets, double Seconds);

/// <summary>One training step of one process on all of a node's cores, the compute a data-parallel node does per step.</summary>
public sealed record ComputeStep(string Model, int Batch, int Size, double Seconds);

/// <summary>Projected scaling efficiency at N nodes: compute / (compute + all-reduce), for both all-reduce algorithms.</summary>
public sealed record Projection(string Model, int Nodes, double FixedOrderEfficiency, double RingEfficiency);

/// <summary>
/// The data-parallel part of the benchmark (issue 14): 1 process x 2 threads against 2 ranks x 1 thread on the reference U-Net
/// (b8x128 global), all-reduce of the reference U-Net's and DeepLabV3+ R50's gradients over shared memory and TCP loopback, and
/// from those figures the expected scaling efficiency at 2, 8 and 32 nodes. The ranks are this program under mpirun.
/// Written to docs/benchmark-distributed.KIND.json and its own block of docs/performance.md.
/// </summary>
public static class DistributedBenchmark
{
    private const int GlobalBatch = 8, Size = 128;
    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
    private static readonly int[] Nodes = { 2, 8, 32 };

    public static void RunChild(string section, bool quick)
    {
        int steps = quick ? 2 : 6;
        using var collective = Collectives.FromEnvironment();
        object result = section switch
        {
            "dp-train" => Steps(collective, steps),
            "allreduce-unet" => AllReduce(collective, "reference U-Net", Measure.ReferenceUNet, 2, quick ? 3 : 10),
            "allreduce-deeplab50" => AllReduce(collective, "DeepLabV3+ R50", DeepLabComparison.Config(EncoderKind.ResNet50), DeepLabComparison.Classes,
                quick ? 3 : 10),
            "compute-unet" => Compute("reference U-Net", Measure.ReferenceUNet, 2, GlobalBatch, Size, steps),
            "compute-deeplab50" => Compute("DeepLabV3+ R50", DeepLabComparison.Config(EncoderKind.ResNet50), DeepLabComparison.Classes,
                DeepLabComparison.Batch, DeepLabComparison.Size, quick ? 1 : 3),
            _ => throw new ArgumentException($"Unknown benchmark section '{section}'."),
        };
        if (collective.IsRoot) ChildSection.Report(result);
    }

    public static void Run(string root, bool quick, Action<string, string> show)
    {
        var machine = MachineInfo.Read(Environment.ProcessorCount);
        var single = ChildSection.Run<DataParallelSteps>("dp-train", Environment.ProcessorCount, quick);
        var ranks = MpiSection<DataParallelSteps>("dp-train", 2, null, quick);
        show($"reference U-Net train b{GlobalBatch}x{Size}: 1 process x {single.ThreadsPerRank} threads / 2 ranks x {ranks.ThreadsPerRank}",
            $"{single.ImagesPerSecond:F2} / {ranks.ImagesPerSecond:F2} img/s (all-reduce {ranks.AllReduceSeconds * 1e3:F0} ms of a " +
            $"{ranks.StepSeconds:F2} s step)");
        var allReduce = new List<(AllReduceTime Shared, AllReduceTime Tcp)>();
        foreach (var model in new[] { "unet", "deeplab50" })
        {
            var shared = MpiSection<AllReduceTime>($"allreduce-{model}", 2, "self,vader", quick);
            var tcp = MpiSection<AllReduceTime>($"allreduce-{model}", 2, "self,tcp", quick);
            allReduce.Add((shared, tcp));
            show($"all-reduce {shared.Model} gradients ({shared.GradientBytes / 1e6:F0} MB), shared memory / TCP loopback",
                $"{shared.Seconds * 1e3:F0} / {tcp.Seconds * 1e3:F0} ms");
        }
        // A section that crashes (oneDNN's AVX-512 backward-data blocking divides by zero for DeepLabV3+ R50 on some AMD EPYC
        // CPUs: SIGFPE) is reported as failed; the other figures still count.
        var compute = new List<ComputeStep>();
        var projections = new List<Projection>();
        var failures = new List<string>();
        foreach (var (model, reduce) in new[] { "unet", "deeplab50" }.Zip(allReduce))
        {
            try
            {
                var c = ChildSection.Run<ComputeStep>($"compute-{model}", Environment.ProcessorCount, quick);
                compute.Add(c);
                projections.AddRange(Project(c, reduce.Tcp));
                show($"{c.Model} training step b{c.Batch}x{c.Size}, one node ({Environment.ProcessorCount} threads)", $"{c.Seconds:F2} s");
            }
            catch (InvalidOperationException e)
            {
                string reason = e.Message.Split('\n')[0].Split(';')[0];
                failures.Add($"{reduce.Tcp.Model}: {reason}");
                show($"{reduce.Tcp.Model} training step, one node", $"failed: {reason}");
            }
        }
        foreach (var p in projections)
            show($"{p.Model} scaling efficiency at {p.Nodes} nodes (fixed order / ring)", $"{p.FixedOrderEfficiency:P0} / {p.RingEfficiency:P0}");
        if (quick) return;
        var equivalence = EquivalenceTable.Measure(root);
        foreach (var e in equivalence)
            show($"{e.Recipe} ({e.Optimizer}, 12 steps): 2 ranks vs 1 process / 2 threads vs 1", $"{e.RanksDifference:E1} / {e.ThreadsDifference:E1}");
        var json = new
        {
            measured_at = DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture), machine, single, ranks,
            all_reduce = allReduce.Select(a => new { shared_memory = a.Shared, tcp_loopback = a.Tcp }), compute, projections, failures, equivalence,
        };
        BenchmarkReport.Publish(root, "benchmark-distributed", machine, JsonSerializer.Serialize(json, JsonOptions),
            Markdown(machine, single, ranks, allReduce, compute, projections, failures, equivalence));
        Console.WriteLine($"wrote {BenchmarkReport.JsonName("benchmark-distributed", machine)} and the distributed table of docs/performance.md");
    }

    /// <summary>
    /// Data-parallel efficiency with the all-reduce after the backward pass (SegSharp does not overlap them): each node
    /// computes its step on its own share, then waits for the all-reduce. With the per-byte time B measured between 2
    /// ranks (both algorithms move the gradients once each way there), Open MPI's fixed-order basic-linear all-reduce
    /// (reduce to rank 0, then broadcast) costs about (N-1) B S at N nodes, a ring about 2 (N-1)/N B S.
    /// </summary>
    private static IEnumerable<Projection> Project(ComputeStep compute, AllReduceTime twoRanks) =>
        Nodes.Select(n => new Projection(compute.Model, n,
            compute.Seconds / (compute.Seconds + twoRanks.Seconds * (n - 1)),
            compute.Seconds / (compute.Seconds + twoRanks.Seconds * 2.0 * (n - 1) / n)));

    /// <summary>Training steps of the reference U-Net on this rank's share of a b8x128 batch, gradients averaged over all ranks.</summary>
    private static DataParallelSteps Steps(ICollective collective, int steps)
    {
        random.manual_seed(1 + collective.Rank);
        using var model = ModelFactory.Create(Measure.ReferenceUNet, 3, 2, 1);
        using var optimizer = OptimizerFactory.Create(Measure.Adam, model.parameters());
        var parallel = new DataParallel(model, collective);
        parallel.BroadcastWeights(model);
        model.train();
        int local = GlobalBatch / collective.Size;
        using var input = rand(local, 3, Size, Size);
        using var target = randint(0, 2, new long[] { local, Size, Size });
        double reduce = 0;
        double step = Measure.Time(() =>
        {
            using var guard = NativeScalarGuard.Enter();
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            nn.functional.cross_entropy(model.forward(input), target).backward();
            var clock = Stopwatch.StartNew();
            parallel.AverageGradients();
            parallel.BroadcastBuffers();
            reduce = clock.Elapsed.TotalSeconds;
            optimizer.step();
        }, steps);
        return new DataParallelSteps(collective.Size, get_num_threads(), GlobalBatch, GlobalBatch / step, step, reduce);
    }

    private static AllReduceTime AllReduce(ICollective collective, string name, ModelConfig config, int classes, int repeats)
    {
        using var model = ModelFactory.Create(config, 3, classes, 1);
        foreach (var p in model.parameters()) p.grad = randn_like(p);
        var parallel = new DataParallel(model, collective);
        long bytes = model.parameters().Sum(p => p.numel()) * sizeof(float);
        // Every rank times the same collective calls; rank 0's median is reported.
        double seconds = Measure.Time(parallel.AverageGradients, repeats);
        return new AllReduceTime(name, bytes, parallel.BucketCount, seconds);
    }

    private static ComputeStep Compute(string name, ModelConfig config, int classes, int batch, int size, int steps)
    {
        random.manual_seed(1);
        using var model = ModelFactory.Create(config, 3, classes, 1);
        using var optimizer = OptimizerFactory.Create(Measure.Adam, model.parameters());
        return new ComputeStep(name, batch, size, Measure.SecondsPerTrainStep(model, optimizer, batch, size, steps, guard: true, classes));
    }

    /// <summary>Runs a section as <paramref name="ranks"/> ranks of this program under mpirun (one thread each) and returns rank 0's result.</summary>
    private static T MpiSection<T>(string section, int ranks, string? transports, bool quick)
    {
        string self = Environment.ProcessPath ?? throw new InvalidOperationException("Cannot find this program's path to start a section.");
        var start = new ProcessStartInfo("mpirun") { RedirectStandardOutput = true, UseShellExecute = false };
        var args = new List<string> { "--allow-run-as-root", "--oversubscribe", "-x", "TERM=dumb", "-np", ranks.ToString(CultureInfo.InvariantCulture) };
        if (transports is not null) args.AddRange(new[] { "--mca", "btl", transports });
        args.Add(self);
        if (Path.GetFileNameWithoutExtension(self) == "dotnet") args.Add(typeof(DistributedBenchmark).Assembly.Location);
        args.AddRange(new[] { "--section", section, "--threads", "1" });
        if (quick) args.Add("--quick");
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return ChildSection.Parse<T>(section, process.ExitCode, output);
    }

    private static string Markdown(MachineInfo machine, DataParallelSteps single, DataParallelSteps ranks,
        List<(AllReduceTime Shared, AllReduceTime Tcp)> allReduce, List<ComputeStep> compute, List<Projection> projections,
        List<string> failures, List<EquivalenceRow> equivalence)
    {
        var s = new StringBuilder();
        void Line(string text) => s.Append(text).Append('\n');
        Line($"Generated by `dotnet run -c Release --project benchmarks/SegSharp.Benchmarks -- --part distributed` on {DateTime.UtcNow:yyyy-MM-dd}; " +
            $"raw figures in `{BenchmarkReport.JsonName("benchmark-distributed", machine)}`. Ranks are the benchmark itself under `mpirun` " +
            "(Open MPI 4.1.4), one libtorch " +
            "thread each; gradients are averaged in 32 MB buckets with SegSharp's default fixed-order all-reduce.");
        Line("");
        Line($"Machine: {machine.Describe()}.");
        Line("");
        Line($"| reference U-Net, b{GlobalBatch}x{Size} global batch | train img/s | step | of which all-reduce |");
        Line("|---|---|---|---|");
        Line($"| 1 process x {single.ThreadsPerRank} threads | {single.ImagesPerSecond:F2} | {single.StepSeconds:F2} s | - |");
        Line($"| 2 ranks x {ranks.ThreadsPerRank} thread (shared memory) | {ranks.ImagesPerSecond:F2} | {ranks.StepSeconds:F2} s | " +
            $"{ranks.AllReduceSeconds * 1e3:F0} ms |");
        Line("");
        Line("| gradients averaged over 2 ranks | size | buckets | shared memory (vader) | TCP loopback |");
        Line("|---|---|---|---|---|");
        foreach (var (shared, tcp) in allReduce)
            Line($"| {shared.Model} | {shared.GradientBytes / 1e6:F1} MB | {shared.Buckets} | {shared.Seconds * 1e3:F0} ms | {tcp.Seconds * 1e3:F0} ms |");
        Line("");
        Line("Expected scaling efficiency (compute / (compute + all-reduce)), one training step per node on its own share, the all-reduce " +
            "after the backward pass; per-byte cost from the 2-rank TCP loopback figure above:");
        Line("");
        Line("| model | step on one node | 2 nodes | 8 nodes | 32 nodes |");
        Line("|---|---|---|---|---|");
        foreach (var c in compute)
        {
            var p = projections.Where(x => x.Model == c.Model).ToList();
            Line($"| {c.Model} (b{c.Batch}x{c.Size} per node) | {c.Seconds:F2} s | " +
                string.Join(" | ", p.Select(x => $"{x.FixedOrderEfficiency:P0} fixed order, {x.RingEfficiency:P0} ring")) + " |");
        }
        foreach (var failure in failures) Line($"| {failure} | | | | |");
        Line("");
        Line("Equivalence with one process (docs/distributed.md): the shipped recipes shortened to 12 steps (crops of 128, one thread per " +
            "process, synchronised batch norm, their own losses), largest difference of any weight or buffer of the last checkpoints:");
        Line("");
        Line("| recipe | optimiser | 2 ranks vs 1 process | for scale: 1 process, 2 threads vs 1 |");
        Line("|---|---|---|---|");
        foreach (var e in equivalence) Line($"| {e.Recipe} | {e.Optimizer} | {e.RanksDifference:0.0e0} | {e.ThreadsDifference:0.0e0} |");
        return s.ToString();
    }
}
