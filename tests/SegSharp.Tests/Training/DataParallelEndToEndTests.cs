using System.Text.Json;
using SegSharp.Inference;
using SegSharp.Tests.Cli;
using SegSharp.Training;

namespace SegSharp.Tests.Training;

/// <summary>
/// <c>mpirun -np 2 segsharp train</c> on the built-in shapes, against one process: equivalence of the trained weights and
/// metrics, synchronised batch norm, bit-identical reruns, kill -9 and SIGTERM of the whole job, a rank that dies, and a
/// resume with another number of processes.
/// </summary>
[Collection("training")]
[Trait("Tier", "EndToEnd")]
public sealed class DataParallelEndToEndTests : IDisposable
{
    /// <summary>
    /// Cross-entropy only (a mean over pixels, so the mean of two equal halves' means is the whole batch's mean) and SGD:
    /// Adam divides each gradient by its running RMS, which magnifies float rounding in near-zero gradients to
    /// learning-rate-sized steps, so its runs agree only to ~1e-3 (docs/distributed.md).
    /// </summary>
    private const string Recipe = """
        data: { dataset: "builtin:shapes", workers: 1, prefetch: 2 }
        transforms:
          train:
            - { name: hflip, p: 0.5 }
            - { name: rotate90, p: 0.5 }
            - { name: color_jitter, brightness: 0.1, contrast: 0.1 }
          val: []
        model: { name: unet, depth: 2, width: 8, norm: group, upsampling: transpose }
        loss: { terms: [ { name: cross_entropy, weight: 1.0 } ] }
        optimizer: { name: sgd, lr: 0.01 }
        schedule: { name: cosine, warmup_iters: 3 }
        train: { epochs: 2, batch_size: 8, iters_per_epoch: 10, seed: 7, threads: 1, val_batch_size: 4 }
        """;

    private readonly string _root = Path.Combine(Path.GetTempPath(), $"segsharp-mpi-{Guid.NewGuid():N}");
    private readonly string _config;

    public DataParallelEndToEndTests()
    {
        Directory.CreateDirectory(_root);
        _config = Path.Combine(_root, "recipe.yaml");
        File.WriteAllText(_config, Recipe);
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void Two_ranks_on_half_batches_end_within_1e5_of_one_process_on_the_whole_batch_and_rerun_bit_identically()
    {
        var single = CliProcess.Run(Train("single"));
        Assert.True(single.Code == 0, single.Error);
        var twice = new[] { "two", "two-again" }.Select(dir => MpiJob.Run(2, Train(dir))).ToList();
        foreach (var run in twice) Assert.True(run.Code == 0, run.Out + run.Error);

        Assert.True(MaxDifference("single", "two") <= 1e-5, $"weights differ by {MaxDifference("single", "two"):E2}");
        Assert.Equal(MpiJob.WeightsHash(twice[0].Out), MpiJob.WeightsHash(twice[1].Out));
        var one = new RunDirectory(Path.Combine(_root, "single"), create: false).ReadMetrics();
        var two = new RunDirectory(Path.Combine(_root, "two"), create: false).ReadMetrics();
        Assert.Equal(2, two.Count);
        for (int e = 0; e < one.Count; e++)
        {
            Assert.Equal(one[e].TrainLoss, two[e].TrainLoss, 4);
            Assert.Equal(one[e].ValidationLoss!.Value, two[e].ValidationLoss!.Value, 4);
            Assert.Equal(one[e].MeanIoU!.Value, two[e].MeanIoU!.Value, 3);
            Assert.Equal(one[e].PixelAccuracy!.Value, two[e].PixelAccuracy!.Value, 3);
        }
        // Rank 0 alone speaks: one start line, one line per epoch, one weights line.
        var lines = twice[0].Out.Split('\n');
        Assert.Single(lines, l => l.StartsWith("training:", StringComparison.Ordinal));
        Assert.Equal(2, lines.Count(l => l.StartsWith("epoch ", StringComparison.Ordinal) && l.Contains("val_loss", StringComparison.Ordinal)));
        Assert.Single(lines, l => l.StartsWith("weights sha256", StringComparison.Ordinal));
        using var environment = JsonDocument.Parse(File.ReadAllText(Path.Combine(_root, "two", "environment.json")));
        var env = environment.RootElement.GetProperty("environment");
        Assert.Equal(2, env.GetProperty("world_size").GetInt32());
        Assert.StartsWith("Open MPI v4", env.GetProperty("collective").GetString(), StringComparison.Ordinal);
        Assert.Equal(1, env.GetProperty("threads").GetInt32());
    }

    [Fact]
    public void Synchronised_batch_norm_makes_two_ranks_equal_one_process_with_batch_norm()
    {
        string[] batchNorm = { "model.norm=batch", "optimizer.lr=0.002" };
        var single = CliProcess.Run(Train("single", batchNorm.Append("train.sync_batch_norm=true").ToArray()));
        var synchronised = MpiJob.Run(2, Train("sync", batchNorm.Append("train.sync_batch_norm=true").ToArray()));
        var perRank = MpiJob.Run(2, Train("per-rank", batchNorm));
        foreach (var run in new[] { single, synchronised, perRank }) Assert.True(run.Code == 0, run.Out + run.Error);

        // Weights and running statistics alike.
        double sync = MaxDifference("single", "sync"), local = MaxDifference("single", "per-rank");
        Assert.True(sync <= 1e-5, $"synchronised batch norm differs from one process by {sync:E2}");
        // The default (each rank's own statistics, DDP's default) is a different computation: the check above can fail.
        Assert.True(local > 1e-3, $"per-rank batch norm differs by only {local:E2}");
    }

    [Fact]
    public void Killing_the_whole_job_at_a_random_moment_then_running_it_again_ends_bit_identical()
    {
        string reference = ReferenceHash();
        int delay = Random.Shared.Next(2500, 6000);
        using (var job = MpiJob.Start(2, Train("killed", Longer)))
        {
            Thread.Sleep(delay);
            job.Kill(9);
            job.Wait(TimeSpan.FromSeconds(30));
        }
        var again = MpiJob.Run(2, Train("killed", Longer));
        Assert.True(again.Code == 0, again.Out + again.Error);
        Assert.True(reference == MpiJob.WeightsHash(again.Out), $"killed after {delay} ms: {again.Out}");
    }

    [Fact]
    public void SIGTERM_to_mpirun_stops_every_rank_after_one_checkpoint_and_the_run_resumes_only_with_as_many_ranks()
    {
        string reference = ReferenceHash();
        using (var job = MpiJob.Start(2, Train("stopped", Longer)))
        {
            Thread.Sleep(4000);
            // mpirun passes SIGTERM on to every rank and sends SIGKILL odls_base_sigkill_timeout seconds later (default 1):
            // the ranks agree on the step, rank 0 checkpoints once, and all leave on their own (no "exited on signal").
            job.Signal(15);
            var stopped = job.Wait(TimeSpan.FromSeconds(60));
            // "Interrupted: checkpoint saved at ..." mid-epoch, or "Interrupted after epoch N: checkpoint saved" when the signal
            // lands in an epoch's last step or its validation: either way one line, from rank 0.
            Assert.Single(stopped.Out.Split('\n'), l => l.StartsWith("Interrupted", StringComparison.Ordinal) && l.Contains("checkpoint saved",
                StringComparison.Ordinal));
            Assert.DoesNotContain("weights sha256", stopped.Out, StringComparison.Ordinal);
            Assert.DoesNotContain("exited on signal", stopped.Out + stopped.Error, StringComparison.Ordinal);
        }

        var alone = CliProcess.Run(new[] { "train", "--quiet", "--no-evaluate", "--resume", Path.Combine(_root, "stopped") });
        Assert.Equal(2, alone.Code);
        Assert.Contains("was trained by 2 process(es) and is being resumed by 1", alone.Error, StringComparison.Ordinal);
        Assert.Contains("'mpirun -np 2'", alone.Error, StringComparison.Ordinal);

        var resumed = MpiJob.Run(2, Train("stopped", Longer));
        Assert.True(resumed.Code == 0, resumed.Out + resumed.Error);
        Assert.Contains("Resuming from", resumed.Out, StringComparison.Ordinal);
        Assert.Equal(reference, MpiJob.WeightsHash(resumed.Out));
    }

    [Fact]
    public void A_rank_that_dies_ends_the_job_with_a_message_instead_of_a_hang()
    {
        using var job = MpiJob.Start(2, Train("orphaned", Longer));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        IReadOnlyDictionary<int, int> ranks;
        while ((ranks = job.RankPids()).Count < 2 && clock.Elapsed < TimeSpan.FromSeconds(30)) Thread.Sleep(100);
        Thread.Sleep(3000);
        Assert.Equal(0, Kill(ranks[1], 9));
        var (code, stdout, stderr) = job.Wait(TimeSpan.FromSeconds(60));
        Assert.NotEqual(0, code);
        Assert.Contains("rank 1", stdout + stderr, StringComparison.Ordinal);
        Assert.Contains("signal 9", stdout + stderr, StringComparison.Ordinal);
    }

    /// <summary>60 steps, a checkpoint every 2: room for a kill or a signal mid-epoch.</summary>
    private static readonly string[] Longer = { "train.epochs=6", "train.checkpoint_every=2" };

    private static readonly Lazy<string> Reference = new(() =>
    {
        string root = Path.Combine(Path.GetTempPath(), $"segsharp-mpi-reference-{Guid.NewGuid():N}");
        Directory.CreateDirectory(root);
        try
        {
            string config = Path.Combine(root, "recipe.yaml");
            File.WriteAllText(config, Recipe);
            var run = MpiJob.Run(2, new[] { "train", "--quiet", "--no-evaluate", "--config", config, "--set", $"output.dir={root}/run" }
                .Concat(Longer.SelectMany(o => new[] { "--set", o })));
            if (run.Code != 0) throw new InvalidOperationException(run.Out + run.Error);
            return MpiJob.WeightsHash(run.Out);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    });

    /// <summary>The uninterrupted 2-rank run of the longer recipe (run once for the tests that need it).</summary>
    private static string ReferenceHash() => Reference.Value;

    private List<string> Train(string directory, params string[] overrides)
    {
        var args = new List<string> { "train", "--quiet", "--no-evaluate", "--config", _config, "--set", $"output.dir={Path.Combine(_root, directory)}" };
        foreach (var o in overrides) args.AddRange(new[] { "--set", o });
        return args;
    }

    /// <summary>Largest absolute difference over every weight and buffer of two runs' last checkpoints.</summary>
    private double MaxDifference(string a, string b)
    {
        using var first = TrainedModel.Load(Path.Combine(_root, a, "checkpoints", "last.ckpt"));
        using var second = TrainedModel.Load(Path.Combine(_root, b, "checkpoints", "last.ckpt"));
        var other = second.Model.state_dict();
        return first.Model.state_dict().Max(kv =>
            (kv.Value.to(TorchSharp.torch.ScalarType.Float64) - other[kv.Key].to(TorchSharp.torch.ScalarType.Float64)).abs().max().item<double>());
    }

    [System.Runtime.InteropServices.DllImport("libc")]
    private static extern int kill(int pid, int signal);

    private static int Kill(int pid, int signal) => kill(pid, signal);
}
