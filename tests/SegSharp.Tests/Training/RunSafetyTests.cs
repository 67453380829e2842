using System.Diagnostics;
using SegSharp.Tests.Data;
using SegSharp.Training;

namespace SegSharp.Tests.Training;

/// <summary>A run folder has one writer, survives kills without leftovers, and resumes only what it started.</summary>
[Collection("training")]
[Trait("Tier", "EndToEnd")]
public class RunSafetyTests
{
    private static readonly Lazy<string> Uninterrupted = new(() => TinyRun.Train(TestPaths.TempFolder("safety-reference")).WeightsHash);

    [Fact]
    public void A_second_train_on_a_locked_run_folder_refuses_and_names_the_holder()
    {
        string folder = TestPaths.TempFolder("locked");
        // flock(1) holds the same kind of lock a running 'segsharp train' holds.
        // --no-fork: the lock's holder is the sleep itself, so killing it releases the lock (no orphaned child).
        using var holder = Process.Start(new ProcessStartInfo("flock", new[] { "--no-fork", Path.Combine(folder, "run.lock"), "sleep", "60" })
        {
            UseShellExecute = false,
        })!;
        try
        {
            var clock = Stopwatch.StartNew();
            while (!File.Exists(Path.Combine(folder, "run.lock")) && clock.Elapsed < TimeSpan.FromSeconds(10)) Thread.Sleep(20);
            Thread.Sleep(200);
            var error = Assert.Throws<SegSharpException>(() => TinyRun.Train(folder));
            Assert.Matches(@"^Run directory '.*' is in use by another 'segsharp train' \(PID \d+\)\. " +
                @"Wait for it to finish or stop it, or choose another output\.dir\.$", error.Message);
            Assert.False(File.Exists(Path.Combine(folder, "checkpoints", "last.ckpt")));
        }
        finally
        {
            holder.Kill(entireProcessTree: true);
            holder.WaitForExit();
        }
        // The kernel drops the lock once the process is fully gone, which can trail WaitForExit by a moment.
        var released = Stopwatch.StartNew();
        while (released.Elapsed < TimeSpan.FromSeconds(10) && IsLocked(folder)) Thread.Sleep(50);
        // Once the holder is gone (however it ended) the folder is free again.
        Assert.Equal(Uninterrupted.Value, TinyRun.Train(folder).WeightsHash);
        Assert.False(File.Exists(Path.Combine(folder, "run.lock")));
    }

    private static bool IsLocked(string folder)
    {
        try
        {
            using var probe = new FileStream(Path.Combine(folder, "run.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            return false;
        }
        catch (IOException)
        {
            return true;
        }
    }

    [Fact]
    public void A_finished_run_started_again_recreates_a_lost_summary_and_removes_half_written_files()
    {
        string folder = TestPaths.TempFolder("leftovers");
        var first = TinyRun.Train(folder);
        var run = new RunDirectory(folder);
        File.Delete(run.File("summary.json"));
        File.WriteAllText(run.File("summary.json.tmp"), "{ half");
        File.WriteAllText(run.Checkpoints.LastPath + ".tmp", "half a checkpoint");
        var observer = new RecordingHook();
        var again = TinyRun.Train(folder, observer);
        Assert.Contains(observer.Messages, m => m.Contains("already finished", StringComparison.Ordinal));
        Assert.Equal(first.WeightsHash, again.WeightsHash);
        var summary = System.Text.Json.JsonDocument.Parse(File.ReadAllText(run.File("summary.json"))).RootElement;
        Assert.Equal(first.WeightsHash, summary.GetProperty("weights_sha256").GetString());
        Assert.Empty(Directory.EnumerateFiles(folder, "*.tmp", SearchOption.AllDirectories));

        // The run's JSON files read back through the records that wrote them.
        var typed = run.ReadSummary()!;
        Assert.Equal((first.WeightsHash, first.State.GlobalStep, first.State.Epoch, first.State.BestEpoch + 1),
            (typed.WeightsSha256, typed.Steps, typed.Epochs, typed.BestEpoch));
        Assert.Equal(first.State.History[^1], typed.Final! with { ClassIoU = first.State.History[^1].ClassIoU, ClassDice = first.State.History[^1].ClassDice });
        Assert.Equal(first.State.History[^1].ClassIoU, typed.Final!.ClassIoU);
        var manifest = run.ReadDatasetManifest()!;
        var datasetJson = System.Text.Json.JsonDocument.Parse(File.ReadAllText(run.File("dataset.json"))).RootElement;
        Assert.Equal(datasetJson.GetProperty("content_sha256").GetString(), manifest.ContentSha256);
        Assert.Equal(datasetJson.GetProperty("train").GetArrayLength(), manifest.Train.Count);
        Assert.Empty(manifest.Train.Intersect(manifest.Validation));
        Assert.NotEmpty(manifest.Validation);
        var environment = run.ReadEnvironment()!;
        Assert.Equal(2, environment.Environment.Threads);
        Assert.NotEmpty(environment.Determinism);
    }

    [Fact]
    public void Resume_accepts_changes_that_cannot_reach_the_weights_and_still_ends_identical()
    {
        string folder = TestPaths.TempFolder("neutral-change");
        using var cancel = new CancellationTokenSource();
        Assert.True(TinyRun.Train(folder, new RecordingHook(cancel, cancelAtStep: 5), cancel.Token).Interrupted);
        var resumed = TinyRun.Train(folder, extra: new[] { "data.workers=0", "data.prefetch=1", "evaluation.samples=1", "train.checkpoint_every=2" });
        Assert.Equal(Uninterrupted.Value, resumed.WeightsHash);
    }

    [Fact]
    public void Resume_with_a_changed_weight_setting_names_each_key_with_old_and_new_values()
    {
        string folder = TestPaths.TempFolder("weight-change");
        using var cancel = new CancellationTokenSource();
        TinyRun.Train(folder, new RecordingHook(cancel, cancelAtStep: 3), cancel.Token);
        var error = Assert.Throws<SegSharpException>(() => TinyRun.Train(folder, extra: new[] { "optimizer.lr=0.01", "train.seed=9" }));
        Assert.Contains("holds a checkpoint trained with other settings: optimizer.lr 0.003 → 0.01, train.seed 5 → 9.", error.Message);
        Assert.Contains("without changing those keys), or train into another output.dir.", error.Message);
        var longer = Assert.Throws<SegSharpException>(() => TinyRun.Train(folder, extra: "train.epochs=5"));
        Assert.Contains("train.epochs 3 → 5. A run cannot be extended: the learning-rate schedule", longer.Message);
    }

    [Fact]
    public void Data_changed_between_interrupt_and_resume_is_refused_unless_allowed_and_then_recorded()
    {
        string data = TestPaths.TempFolder("changing-data");
        string yaml = DatasetFixture.Create(data, "mask_encoding: index\nclasses:\n  - { name: a }\n  - { name: b }\nsplit: { val_fraction: 0.25 }\n", 8,
            (path, i) => DatasetFixture.WriteGray8(path, DatasetFixture.Pattern(16, 16, 2), 16, 16), 16, 16);
        File.Copy(Path.Combine(data, "images", "0.png"), Path.Combine(data, "images", "extra.png"));
        string folder = TestPaths.TempFolder("changing-run");
        string[] settings = { $"data.dataset={yaml}", "transforms.train=[]", "model.input_policy=pad" };
        using var cancel = new CancellationTokenSource();
        var observer = new RecordingHook(cancel, cancelAtStep: 2);
        TinyRun.Train(folder, observer, cancel.Token, settings);
        Assert.Contains(observer.Messages, m => m.StartsWith("Skipping 1 file(s) without a partner of the same stem (first: ", StringComparison.Ordinal));

        DatasetFixture.WriteGray8(Path.Combine(data, "masks", "3.png"), Enumerable.Repeat(1, 256).ToArray(), 16, 16);
        var error = Assert.Throws<SegSharpException>(() => TinyRun.Train(folder, extra: settings));
        Assert.Matches(@"^The dataset 'fixture' changed since this run started \(content SHA-256 [0-9a-f]{12}… now [0-9a-f]{12}…\); " +
            "resuming would train", error.Message);
        Assert.Contains("--allow-data-change", error.Message);

        var allowed = new RecordingHook();
        var resumed = TinyRun.Trainer(TinyRun.Config(folder, settings), new[] { allowed }, allowDataChange: true).Run();
        Assert.False(resumed.Interrupted);
        Assert.Contains(allowed.Messages, m => m.StartsWith("warning: The dataset 'fixture' changed", StringComparison.Ordinal));
        Assert.Contains("continued with --allow-data-change", File.ReadAllText(Path.Combine(folder, "warnings.txt")));
    }
}
