using SegSharp.Configuration;
using TorchSharp;
using TorchSharp.Modules;

namespace SegSharp.Training;

/// <summary>Builds the optimiser a config names over a model's parameters.</summary>
public static class OptimizerFactory
{
    public static torch.optim.Optimizer Create(OptimizerConfig c, IEnumerable<Parameter> parameters) => c.Kind switch
    {
        OptimizerKind.Adam => torch.optim.Adam(parameters, c.LR, c.Beta1, c.Beta2, c.Epsilon, c.WeightDecay),
        OptimizerKind.AdamW => torch.optim.AdamW(parameters, c.LR, c.Beta1, c.Beta2, c.Epsilon, c.WeightDecay),
        OptimizerKind.Sgd => torch.optim.SGD(parameters, c.LR, c.Momentum, 0, c.WeightDecay, c.Nesterov),
    };

    public static void SetLearningRate(torch.optim.Optimizer optimizer, double lr)
    {
        foreach (var group in optimizer.ParamGroups) group.LearningRate = lr;
    }
}
