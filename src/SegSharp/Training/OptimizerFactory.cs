using SegSharp.Configuration;
using SegSharp.Models;
using TorchSharp;
using TorchSharp.Modules;

namespace SegSharp.Training;

/// <summary>
/// Builds the optimiser a config names over a model's parameters. With <c>optimizer.encoder_lr_factor</c> below 1
/// (DeepLabV3+ fine-tuning) there are two parameter groups: the encoder's first, at the factor times the learning
/// rate, then everything else.
/// </summary>
public static class OptimizerFactory
{
    public static torch.optim.Optimizer Create(OptimizerConfig c, SegmentationModel model)
    {
        var encoder = model.EncoderParameters();
        if (c.EncoderLRFactor == 1 || encoder.Count == 0) return Create(c, model.parameters());
        var encoderHandles = encoder.Select(p => p.Handle).ToHashSet();
        var rest = model.parameters().Where(p => !encoderHandles.Contains(p.Handle)).ToList();
        return c.Kind switch
        {
            OptimizerKind.Adam => torch.optim.Adam(new[]
            {
                new Adam.ParamGroup(encoder, lr: c.LR * c.EncoderLRFactor, beta1: c.Beta1, beta2: c.Beta2, eps: c.Epsilon, weight_decay: c.WeightDecay),
                new Adam.ParamGroup(rest, lr: c.LR, beta1: c.Beta1, beta2: c.Beta2, eps: c.Epsilon, weight_decay: c.WeightDecay),
            }, c.LR, c.Beta1, c.Beta2, c.Epsilon, c.WeightDecay),
            OptimizerKind.AdamW => torch.optim.AdamW(new[]
            {
                new AdamW.ParamGroup(encoder, lr: c.LR * c.EncoderLRFactor, beta1: c.Beta1, beta2: c.Beta2, eps: c.Epsilon, weight_decay: c.WeightDecay),
                new AdamW.ParamGroup(rest, lr: c.LR, beta1: c.Beta1, beta2: c.Beta2, eps: c.Epsilon, weight_decay: c.WeightDecay),
            }, c.LR, c.Beta1, c.Beta2, c.Epsilon, c.WeightDecay),
            OptimizerKind.Sgd => torch.optim.SGD(new[]
            {
                new SGD.ParamGroup(encoder, lr: c.LR * c.EncoderLRFactor, momentum: c.Momentum, weight_decay: c.WeightDecay, nesterov: c.Nesterov),
                new SGD.ParamGroup(rest, lr: c.LR, momentum: c.Momentum, weight_decay: c.WeightDecay, nesterov: c.Nesterov),
            }, c.LR, c.Momentum, 0, c.WeightDecay, c.Nesterov),
        };
    }

    public static torch.optim.Optimizer Create(OptimizerConfig c, IEnumerable<Parameter> parameters) => c.Kind switch
    {
        OptimizerKind.Adam => torch.optim.Adam(parameters, c.LR, c.Beta1, c.Beta2, c.Epsilon, c.WeightDecay),
        OptimizerKind.AdamW => torch.optim.AdamW(parameters, c.LR, c.Beta1, c.Beta2, c.Epsilon, c.WeightDecay),
        OptimizerKind.Sgd => torch.optim.SGD(parameters, c.LR, c.Momentum, 0, c.WeightDecay, c.Nesterov),
    };

    /// <summary>Sets the scheduled rate: <paramref name="lr"/> for the model, times the encoder factor for the encoder group.</summary>
    public static void SetLearningRate(torch.optim.Optimizer optimizer, OptimizerConfig c, double lr)
    {
        var groups = optimizer.ParamGroups.ToList();
        for (int i = 0; i < groups.Count; i++) groups[i].LearningRate = groups.Count == 2 && i == 0 ? lr * c.EncoderLRFactor : lr;
    }
}
