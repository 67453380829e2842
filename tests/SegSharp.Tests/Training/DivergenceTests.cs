using SegSharp.Data;
using SegSharp.Training;

namespace SegSharp.Tests.Training;

[Collection("training")]
[Trait("Tier", "EndToEnd")]
public class DivergenceTests
{
    /// <summary>Shapes whose images are NaN once <see cref="Poisoned"/> is set.</summary>
    private sealed class PoisonedShapes : ISegmentationDataset
    {
        private readonly ShapesDataset _inner = new();
        public volatile bool Poisoned;
        public DatasetDescription Description => _inner.Description;
        public int Count => _inner.Count;
        public string NameOf(int index) => _inner.NameOf(index);

        public Sample Load(int index)
        {
            var sample = _inner.Load(index);
            if (Poisoned) Array.Fill(sample.Image, float.NaN);
            return sample;
        }
    }

    /// <summary>Poisons the data after a given step; with workers=0 the next batch is built after that.</summary>
    private sealed class PoisonAfter(PoisonedShapes data, long step) : ITrainingHook
    {
        private long _steps;
        public void StepCompleted(ITrainingView run, StepReport report)
        {
            if (++_steps == step) data.Poisoned = true;
        }
    }

    [Fact]
    public void A_nan_loss_stops_the_run_naming_the_step_and_keeping_the_last_good_checkpoint()
    {
        string folder = TestPaths.TempFolder("diverge");
        var config = TinyRun.Config(folder, "data.workers=0", "train.checkpoint_every=3");
        var data = new PoisonedShapes();
        var error = Assert.Throws<SegSharpException>(() => TinyRun.Trainer(config, new[] { new PoisonAfter(data, 5) }, data).Run());
        Assert.StartsWith("Training diverged: the loss is NaN at epoch 2, step 6 (batch 1).", error.Message);
        Assert.Contains("last.ckpt", error.Message);
        var state = Checkpoint.Parse(File.ReadAllBytes(new RunDirectory(folder).Checkpoints.LastPath)).State;
        Assert.Equal(4, state.GlobalStep);
        Assert.True(double.IsFinite(state.History[0].TrainLoss));
    }
}
