using System.Diagnostics;
using SegSharp.Training;

namespace SegSharp.Tests.Training;

/// <summary>Same config, same weights: uninterrupted, interrupted, killed, or resumed past a corrupt checkpoint.</summary>
[Collection("training")]
[Trait("Tier", "EndToEnd")]
public class ReproducibilityTests
{
    private static readonly Lazy<string> Reference = new(() => TinyRun.Train(TestPaths.TempFolder("reference")).WeightsHash);

    [Fact]
    public void Two_runs_of_one_config_give_bit_identical_weights()
    {
        var second = TinyRun.Train(TestPaths.TempFolder("second"));
        Assert.Equal(Reference.Value, second.WeightsHash);
        Assert.Equal(12, second.State.GlobalStep);
        var other = TinyRun.Train(TestPaths.TempFolder("otherseed"), extra: "train.seed=6");
        Assert.NotEqual(Reference.Value, other.WeightsHash);
    }

    [Fact]
    public void Interrupt_mid_epoch_then_resume_ends_with_the_uninterrupted_weights()
    {
        string folder = TestPaths.TempFolder("interrupt");
        using var cancel = new CancellationTokenSource();
        var first = TinyRun.Train(folder, new RecordingHook(cancel, cancelAtStep: 6), cancel.Token);
        Assert.True(first.Interrupted);
        Assert.Equal(6, first.State.GlobalStep);
        var observer = new RecordingHook();
        var resumed = TinyRun.Train(folder, observer);
        Assert.Contains(observer.Messages, m => m.StartsWith("Resuming from", StringComparison.Ordinal) && m.Contains("step 6"));
        Assert.Equal(Reference.Value, resumed.WeightsHash);
        Assert.Equal(3, new RunDirectory(folder).ReadMetrics().Count);
    }

    [Fact]
    public void Corrupt_last_checkpoint_is_reported_and_the_previous_one_is_used()
    {
        string folder = TestPaths.TempFolder("corrupt");
        using var cancel = new CancellationTokenSource();
        TinyRun.Train(folder, new RecordingHook(cancel, cancelAtStep: 7), cancel.Token, "train.checkpoint_every=1");
        var store = new RunDirectory(folder).Checkpoints;
        var bytes = File.ReadAllBytes(store.LastPath);
        File.WriteAllBytes(store.LastPath, bytes.AsSpan(0, bytes.Length / 2).ToArray());
        var observer = new RecordingHook();
        var resumed = TinyRun.Train(folder, observer, default, "train.checkpoint_every=1");
        Assert.Contains(observer.Messages, m => m.Contains("last.ckpt' is unusable: checksum mismatch", StringComparison.Ordinal));
        Assert.Contains(observer.Messages, m => m.StartsWith("Resuming from", StringComparison.Ordinal) && m.Contains("previous.ckpt") && m.Contains("step 6"));
        Assert.Equal(Reference.Value, resumed.WeightsHash);
    }

    [Fact]
    public void Killed_with_SIGKILL_at_a_random_step_and_resumed_ends_with_the_uninterrupted_weights()
    {
        string folder = TestPaths.TempFolder("sigkill");
        var args = new List<string> { "train", "--quiet", "--no-evaluate" };
        foreach (var o in TinyRun.Overrides.Append($"output.dir={folder}").Append("train.checkpoint_every=1")) { args.Add("--set"); args.Add(o); }
        int delay = new Random().Next(100, 1500);
        using (var child = StartCli(args))
        {
            // Kill once training has checkpointed at least once, at a random moment after that.
            var store = new RunDirectory(folder).Checkpoints;
            var clock = Stopwatch.StartNew();
            while (!File.Exists(store.LastPath) && !child.HasExited && clock.Elapsed < TimeSpan.FromSeconds(60)) Thread.Sleep(20);
            Thread.Sleep(delay);
            if (!child.HasExited) child.Kill(entireProcessTree: true);
            child.WaitForExit();
        }
        using (var resume = StartCli(new[] { "train", "--quiet", "--no-evaluate", "--resume", folder }))
        {
            string output = resume.StandardOutput.ReadToEnd();
            resume.WaitForExit();
            Assert.True(resume.ExitCode == 0, output + resume.StandardError.ReadToEnd());
            Assert.Contains($"weights sha256: {Reference.Value}", output);
        }
        // The run directory config was used, so the config hash must match the in-process reference exactly.
        Assert.Equal(Reference.Value, System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(folder,
            "summary.json"))).RootElement.GetProperty("weights_sha256").GetString());
    }

    private static Process StartCli(IEnumerable<string> args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "SegSharp.Cli.dll"));
        foreach (var a in args) info.ArgumentList.Add(a);
        info.Environment["CI"] = "true";
        return Process.Start(info)!;
    }
}
