using SegSharp.Training;
using static TorchSharp.torch;

namespace SegSharp.Tests.Training;

/// <summary>Hooks run at the documented points, in order, and GradientsReady sits between backward and the optimiser.</summary>
[Collection("training")]
[Trait("Tier", "EndToEnd")]
public class TrainerHookTests
{
    private sealed class EventLog : ITrainingHook
    {
        public List<string> Events { get; } = new();
        public void RunStarted(TrainingSession session) => Events.Add("run");
        public void EpochStarted(TrainingSession session, int epoch) => Events.Add($"epoch{epoch}");
        public void GradientsReady(TrainingSession session) => Events.Add("grads");
        public void StepCompleted(TrainingSession session, StepReport step) => Events.Add($"step{step.Step}");
        public void EpochTrained(TrainingSession session, EpochReport epoch) => Events.Add(epoch.Record.MeanDice is null ? "trained" : "trained+validated");
        // The built-in RunFilesHook has already written this epoch's line when a caller's hook runs.
        public void EpochCompleted(TrainingSession session, EpochReport epoch) =>
            Events.Add($"completed:{session.State.History.Count}:{File.ReadAllLines(session.Run.File("metrics.jsonl")).Length}");
        public void Interrupted(TrainingSession session, bool atEpochEnd) => Events.Add("interrupted");
        public void RunFinished(TrainingSession session, TrainingResult result) => Events.Add("finished");
    }

    /// <summary>Zeroes every gradient: an optimiser without weight decay then leaves the parameters where they started.</summary>
    private sealed class ZeroGradients : ITrainingHook
    {
        public void GradientsReady(TrainingSession session)
        {
            using var noGrad = no_grad();
            foreach (var p in session.Model.parameters()) p.grad?.zero_();
        }
    }

    [Fact]
    public void Hooks_see_every_point_in_order_and_after_the_built_in_ones()
    {
        var log = new EventLog();
        var config = TinyRun.Config(TestPaths.TempFolder("hooks"), "train.epochs=2", "train.iters_per_epoch=2", "train.accumulate=2");
        new Trainer(config, new RecordingObserver(), hooks: new[] { log }).Run();
        // 2 optimiser steps per epoch of 2 batches each, each step after one GradientsReady.
        var epoch = new[] { "grads", "step1", "grads", "step2", "trained+validated" };
        var expected = new[] { "run",
            "epoch0" }.Concat(epoch).Append("completed:1:1").Append("epoch1").Concat(epoch).Append("completed:2:2").Append("finished");
        Assert.Equal(expected, log.Events);
    }

    [Fact]
    public void GradientsReady_runs_before_the_optimiser_step()
    {
        string folder = TestPaths.TempFolder("zero-grad");
        var config = TinyRun.Config(folder, "optimizer.name=sgd", "optimizer.weight_decay=0", "optimizer.momentum=0", "model.norm=none");
        using var initial = SegSharp.Models.ModelFactory.Create(config.Model, 3, 4, config.Train.Seed);
        string before = Checkpoint.WeightsHash(initial);
        var result = new Trainer(config, new RecordingObserver(), hooks: new[] { new ZeroGradients() }).Run();
        Assert.Equal(before, result.WeightsHash);
        var moved = TinyRun.Train(TestPaths.TempFolder("no-hook"), extra: new[] { "optimizer.name=sgd", "optimizer.weight_decay=0",
            "optimizer.momentum=0", "model.norm=none" });
        Assert.NotEqual(before, moved.WeightsHash);
    }

    [Fact]
    public void A_stop_request_mid_epoch_reaches_the_hooks_once_and_no_epoch_completes()
    {
        var log = new EventLog();
        using var cancel = new CancellationTokenSource();
        var config = TinyRun.Config(TestPaths.TempFolder("hooks-stop"));
        var result = new Trainer(config, new RecordingObserver(cancel, cancelAtStep: 2), hooks: new[] { log }).Run(cancel.Token);
        Assert.True(result.Interrupted);
        Assert.Equal(new[] { "run", "epoch0", "grads", "step1", "grads", "step2", "interrupted" }, log.Events);
    }
}
