using SegSharp.Configuration;
using SegSharp.Models;
using SegSharp.Runtime;
using SegSharp.Training;
using static TorchSharp.torch;

namespace SegSharp.Tests.Training;

/// <summary>
/// optimizer.encoder_lr_factor: one step moves the encoder by exactly the factor times what a single-group optimiser
/// moves it, and every other parameter by exactly the same amount (first step of Adam/AdamW: the update is
/// proportional to the rate; SGD's always is).
/// </summary>
public class OptimizerFactoryTests
{
    [Theory]
    [InlineData("adam")]
    [InlineData("adamw")]
    [InlineData("sgd")]
    public void The_encoder_group_steps_at_the_factor_and_the_rest_at_the_full_rate(string optimizer)
    {
        var single = Step(optimizer, 1);
        var grouped = Step(optimizer, 0.25);
        Assert.Equal(single.Keys, grouped.Keys);
        foreach (var (key, delta) in single)
        {
            bool encoder = key.StartsWith("_encoder.", StringComparison.Ordinal);
            using var expected = encoder ? delta * 0.25 : delta.alias();
            // Deltas are differences of float32 weights near 0.1: they carry rounding of about 1e-8.
            Assert.True(grouped[key].allclose(expected, rtol: 1e-4, atol: 1e-7), $"{key} ({(encoder ? "encoder" : "decoder")}) moved differently: " +
                $"ratio {(grouped[key].abs().sum() / delta.abs().sum()).item<float>()}");
        }
        Assert.Contains(single.Keys, k => k.StartsWith("_encoder.", StringComparison.Ordinal) && single[k].abs().max().item<float>() > 0);
        foreach (var delta in single.Values.Concat(grouped.Values)) delta.Dispose();
    }

    /// <returns>Each trainable parameter's change after one step, by name.</returns>
    private static Dictionary<string, Tensor> Step(string optimizer, double factor)
    {
        var config = SegSharpConfig.Load(null, new[]
        {
            "model.name=deeplabv3plus", "model.encoder=resnet18", $"optimizer.name={optimizer}", "optimizer.lr=0.01",
            "optimizer.weight_decay=0.001", $"optimizer.encoder_lr_factor={factor}",
        });
        using var model = ModelFactory.Create(config.Model, 3, 2, seed: 4);
        using var sgdOrAdam = OptimizerFactory.Create(config.Optimizer, model);
        OptimizerFactory.SetLearningRate(sgdOrAdam, config.Optimizer, config.Optimizer.LR);
        var before = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().clone());
        model.train();
        using (var guard = NativeScalarGuard.Enter())
        using (var scope = NewDisposeScope())
        {
            using var generator = new Generator(9);
            model.forward(rand(new long[] { 2, 3, 32, 32 }, generator: generator)).square().mean().backward();
            sgdOrAdam.step();
        }
        var result = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach() - before[p.name]);
        foreach (var tensor in before.Values) tensor.Dispose();
        return result;
    }
}
