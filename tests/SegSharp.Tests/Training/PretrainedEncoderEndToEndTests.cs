using SegSharp.Configuration;
using SegSharp.Inference;
using SegSharp.Models;

namespace SegSharp.Tests.Training;

/// <summary>
/// An FPN on a ResNet-34 whose starting weights are a state dict written by Debian's torchvision (not by SegSharp) trains
/// from a fresh clone; with the encoder's learning rate at 0 and its norms frozen, the trained checkpoint still holds
/// torchvision's encoder values exactly, so the file was read into the right places and training left them alone.
/// </summary>
[Collection("training")]
[Trait("Tier", "EndToEnd")]
public class PretrainedEncoderEndToEndTests
{
    [Fact]
    public void Fpn_on_a_torchvision_resnet34_state_dict_trains_and_keeps_the_frozen_encoder_exactly()
    {
        Prerequisite.PythonModules("python3-torch python3-torchvision", "torch", "torchvision");
        string folder = TestPaths.TempFolder("fpn-resnet34");
        ChildProcess.Run(Prerequisite.Python, folder, null, "-c", """
            import torch, torchvision
            torch.manual_seed(3)
            model = torchvision.models.resnet34()
            for m in model.modules():
                if isinstance(m, torch.nn.BatchNorm2d):
                    m.running_mean.normal_(0, 0.1); m.running_var.uniform_(0.5, 2.0)
            torch.save(model.state_dict(), 'resnet34.pt')
            """);
        string weights = Path.Combine(folder, "resnet34.pt");
        var config = TinyRun.Config(Path.Combine(folder, "run"), "model.name=fpn", "model.encoder=resnet34", $"model.encoder_weights={weights}",
            "model.norm=batch", "model.freeze_encoder_norm=true", "optimizer.encoder_lr_factor=0", "train.epochs=1", "train.iters_per_epoch=2");
        var hook = new RecordingHook();
        var result = TinyRun.Trainer(config, new[] { hook }).Run();
        Assert.True(result.State.Finished);
        Assert.True(double.IsFinite(Assert.Single(hook.Epochs).TrainLoss));

        using var trained = TrainedModel.Load(result.Run.File(Path.Combine("checkpoints", "last.ckpt")));
        var state = trained.Model.state_dict();
        var file = WeightFiles.Read(weights);
        int compared = 0;
        foreach (var (from, to) in TorchvisionResNet.KeyMap(EncoderKind.ResNet34))
        {
            if (from.EndsWith("num_batches_tracked", StringComparison.Ordinal)) continue;
            Assert.Equal(file[from].shape, state["_encoder." + to].shape);
            Assert.True(file[from].equal(state["_encoder." + to]).all().item<bool>(), $"{from} -> _encoder.{to} differs from torchvision's value");
            compared++;
        }
        Assert.True(compared > 100, $"only {compared} tensors compared");
        foreach (var tensor in file.Values) tensor.Dispose();
    }
}
