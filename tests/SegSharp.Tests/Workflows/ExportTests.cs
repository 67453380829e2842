using SegSharp.Cli;
using SegSharp.Models;
using SegSharp.Tests.Training;
using SegSharp.Training;

namespace SegSharp.Tests.Workflows;

/// <summary>segsharp export writes a checkpoint's weights; model.init_weights starts training from such a file.</summary>
[Collection("training")]
[Trait("Tier", "EndToEnd")]
public class ExportTests
{
    private sealed class InitialWeights : ITrainingHook
    {
        public string? Hash { get; private set; }
        public void RunStarted(ITrainingView run) => Hash = Checkpoint.WeightsHash(run.Parts.Model);
    }

    [Fact]
    public void Exported_weights_equal_the_checkpoint_and_start_another_run()
    {
        string run = TestPaths.TempFolder("export-run");
        var trained = TinyRun.Train(run);
        string file = Path.Combine(TestPaths.TempFolder("export-out"), "model.safetensors");
        int code = CommandLine.Build().Parse(new[] { "export", "--checkpoint", new RunDirectory(run).Checkpoints.LastPath, "--format", "safetensors",
            "--output", file }).Invoke();
        Assert.Equal(0, code);

        var initial = new InitialWeights();
        var config = TinyRun.Config(TestPaths.TempFolder("from-file"), $"model.init_weights={file}", "train.epochs=1");
        TinyRun.Trainer(config, new ITrainingHook[] { initial }).Run();
        Assert.Equal(trained.WeightsHash, initial.Hash);
    }
}
