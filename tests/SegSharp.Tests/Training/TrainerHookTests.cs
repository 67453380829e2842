using System.Reflection;
using SegSharp.Training;

namespace SegSharp.Tests.Training;

/// <summary>
/// Hooks run at the documented points, in order, after the trainer's own decisions (validation, checkpoints); they see a
/// read-only view; what a hook asks a checkpoint to keep comes back to it on resume.
/// </summary>
[Collection("training")]
[Trait("Tier", "EndToEnd")]
public class TrainerHookTests
{
    private sealed class EventLog : ITrainingHook
    {
        public List<string> Events { get; } = new();
        public void RunStarted(ITrainingView run) => Events.Add("run");
        public void EpochStarted(ITrainingView run, int epoch) => Events.Add($"epoch{epoch}");
        public void StepCompleted(ITrainingView run, StepReport step) => Events.Add($"step{step.Step}");
        // The built-in RunFilesHook has already written this epoch's line, and the trainer its checkpoint, when a caller's hook runs.
        public void EpochCompleted(ITrainingView run, EpochOutcome epoch)
        {
            run.Run.Checkpoints.WaitForWrites(); // last.ckpt is written in the background; it is queued by now
            Events.Add($"completed:{run.State.History.Count}:{File.ReadAllLines(run.Run.File("metrics.jsonl")).Length}:" +
                $"{(epoch.Record.MeanDice is null ? "-" : "validated")}:{Checkpoint.Parse(File.ReadAllBytes(run.Run.Checkpoints.LastPath)).State.Epoch}");
        }
        public void Interrupted(ITrainingView run, bool atEpochEnd) => Events.Add("interrupted");
        public void RunFinished(ITrainingView run, TrainingResult result) => Events.Add("finished");
    }

    /// <summary>Counts its steps across restarts through the checkpoint: the count it saved is what it gets back.</summary>
    private sealed class StepCounter : ITrainingHook
    {
        public long Steps { get; private set; }
        public IReadOnlyDictionary<string, string>? Restored { get; private set; }
        public void StepCompleted(ITrainingView run, StepReport step) => Steps++;
        public void SavingCheckpoint(IDictionary<string, string> entries) =>
            entries["counter.steps"] = Steps.ToString(System.Globalization.CultureInfo.InvariantCulture);
        public void CheckpointRestored(IReadOnlyDictionary<string, string> entries)
        {
            Restored = entries;
            Steps = long.Parse(entries["counter.steps"], System.Globalization.CultureInfo.InvariantCulture);
        }
    }

    [Fact]
    public void Hooks_see_every_point_in_order_after_the_trainer_validated_and_checkpointed()
    {
        var log = new EventLog();
        var config = TinyRun.Config(TestPaths.TempFolder("hooks"), "train.epochs=2", "train.iters_per_epoch=2", "train.accumulate=2");
        TinyRun.Trainer(config, new ITrainingHook[] { log }).Run();
        // 2 optimiser steps per epoch of 2 batches each; last.ckpt already closes the epoch (its state's epoch is the next one).
        var expected = new[] { "run", "epoch0", "step1", "step2", "completed:1:1:validated:1", "epoch1", "step1", "step2", "completed:2:2:validated:2",
            "finished" };
        Assert.Equal(expected, log.Events);
    }

    [Fact]
    public void A_stop_request_mid_epoch_reaches_the_hooks_once_and_no_epoch_completes()
    {
        var log = new EventLog();
        using var cancel = new CancellationTokenSource();
        var config = TinyRun.Config(TestPaths.TempFolder("hooks-stop"));
        var result = TinyRun.Trainer(config, new ITrainingHook[] { new RecordingHook(cancel, cancelAtStep: 2), log }).Run(cancel.Token);
        Assert.True(result.Interrupted);
        Assert.Equal(new[] { "run", "epoch0", "step1", "step2", "interrupted" }, log.Events);
    }

    [Fact]
    public void What_a_hook_saves_in_a_checkpoint_comes_back_to_it_on_resume()
    {
        string folder = TestPaths.TempFolder("hook-entries");
        using var cancel = new CancellationTokenSource();
        var first = new StepCounter();
        var config = TinyRun.Config(folder, "train.checkpoint_every=2");
        TinyRun.Trainer(config, new ITrainingHook[] { new RecordingHook(cancel, cancelAtStep: 5), first }).Run(cancel.Token);
        Assert.Equal(5, first.Steps);
        Assert.Equal("5", Checkpoint.Parse(File.ReadAllBytes(new RunDirectory(folder).Checkpoints.LastPath)).State.HookEntries["counter.steps"]);

        var second = new StepCounter();
        TinyRun.Trainer(config, new ITrainingHook[] { second }).Run();
        Assert.Equal("5", second.Restored!["counter.steps"]);
        Assert.Equal(12, second.Steps); // 3 epochs x 4 steps: the count went on from the checkpoint
    }

    /// <summary>
    /// Hooks get <see cref="ITrainingView"/>: nothing reachable through it can set the trainer's state. Its properties are
    /// get-only, the state and the epoch outcome are records whose members are init-only (a <c>with</c> makes a copy the
    /// trainer never sees), and the session behind the view is internal with a private setter.
    /// </summary>
    [Fact]
    public void Hooks_cannot_set_the_trainers_state()
    {
        foreach (var type in new[] { typeof(ITrainingView), typeof(TrainingParts), typeof(TrainingState), typeof(EpochOutcome), typeof(StepReport),
                     typeof(TrainingResult), typeof(EpochRecord) })
        {
            foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
            {
                var setter = property.SetMethod;
                bool initOnly = setter?.ReturnParameter.GetRequiredCustomModifiers().Contains(typeof(System.Runtime.CompilerServices.IsExternalInit)) == true;
                Assert.True(setter is null || !setter.IsPublic || initOnly, $"{type.Name}.{property.Name} has a public setter");
            }
        }
        var session = typeof(ITrainingView).Assembly.GetType("SegSharp.Training.TrainingSession")!;
        Assert.False(session.IsPublic);
        Assert.False(session.GetProperty("State")!.SetMethod!.IsPublic || session.GetProperty("State")!.SetMethod!.IsAssembly);
        Assert.DoesNotContain(typeof(ITrainingHook).GetMethods(), m => m.GetParameters().Any(p => p.ParameterType.Name == "TrainingSession"));
    }
}
