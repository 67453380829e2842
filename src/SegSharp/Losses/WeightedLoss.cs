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
    /// <param name="processes">Processes sharing each batch (OHEM's min_kept is split between them).</param>
    public static WeightedLoss Create(IReadOnlyList<LossTermSpec> terms, long ignoreIndex, int processes = 1) =>
        new(terms.Select(t => (t.Weight, Create(t, ignoreIndex, processes))).ToList());

    /// <summary>One line per spec. C# cannot close a record hierarchy, so the default arm exists; a test builds every kind.</summary>
    public static ISegmentationLoss Create(LossTermSpec spec, long ignoreIndex, int processes = 1) => spec switch
    {
        CrossEntropySpec t => new CrossEntropyLoss(ignoreIndex, t.ClassWeights, t.LabelSmoothing, t.BorderWeight, t.BorderSigma, t.BorderClass),
        DiceSpec t => new DiceLoss(ignoreIndex, t.Smooth, t.ExcludeBackground, t.Mode == DiceMode.Binary),
        FocalSpec t => new FocalLoss(ignoreIndex, t.Gamma, t.Alpha),
        TverskySpec t => new TverskyLoss(ignoreIndex, t.Alpha, t.Beta, t.Gamma, t.Smooth, t.ExcludeBackground),
        OhemCrossEntropySpec t => new OhemCrossEntropyLoss(ignoreIndex, t.Threshold, t.MinKept, t.ClassWeights, processes),
        LovaszSoftmaxSpec => new LovaszSoftmaxLoss(ignoreIndex),
        _ => throw new ArgumentException($"No loss is built from {spec.GetType().Name}.", nameof(spec)),
    };
}
