using SegSharp.Configuration;
using static TorchSharp.torch;

namespace SegSharp.Losses;

/// <summary>Σ w_i · L_i over the configured terms, e.g. 1.0·CE + 1.0·Dice (nnU-Net's default).</summary>
public sealed class WeightedLoss : ISegmentationLoss
{
    public WeightedLoss(IReadOnlyList<(double Weight, ISegmentationLoss Loss)> terms) => Terms = terms;

    public IReadOnlyList<(double Weight, ISegmentationLoss Loss)> Terms { get; }

    public string Name => string.Join(" + ", Terms.Select(t => $"{t.Weight}*{t.Loss.Name}"));

    public Tensor Compute(Tensor logits, Tensor target, BatchReduction? batch = null)
    {
        using var scope = NewDisposeScope();
        Tensor? total = null;
        foreach (var (weight, loss) in Terms)
        {
            var term = loss.Compute(logits, target, batch) * weight;
            total = total is null ? term : total + term;
        }
        return total!.MoveToOuterDisposeScope();
    }

    /// <summary>Builds the loss a config's terms describe, for a dataset's ignore index.</summary>
    public static WeightedLoss Create(IReadOnlyList<LossTermConfig> terms, long ignoreIndex) =>
        new(terms.Select(t => (t.Weight, Create(t, ignoreIndex))).ToList());

    private static ISegmentationLoss Create(LossTermConfig t, long ignoreIndex) => t.Kind switch
    {
        LossKind.CrossEntropy => new CrossEntropyLoss(ignoreIndex, t.ClassWeights, t.LabelSmoothing, t.BorderWeight, t.BorderSigma, t.BorderClass),
        LossKind.Dice => new DiceLoss(ignoreIndex, t.Smooth, t.ExcludeBackground, t.Mode == DiceMode.Binary),
        LossKind.Focal => new FocalLoss(ignoreIndex, t.Gamma, t.Alpha),
    };
}
