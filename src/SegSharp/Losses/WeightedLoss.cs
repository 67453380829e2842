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

    /// <summary>Builds the loss a config's terms describe, for a dataset's ignore index and task.</summary>
    /// <param name="processes">Processes sharing each batch (OHEM's min_kept is split between them).</param>
    public static WeightedLoss Create(IReadOnlyList<LossTermSpec> terms, long ignoreIndex, int processes = 1,
        Data.SegmentationTask task = Data.SegmentationTask.Multiclass) =>
        new(terms.Select(t => (t.Weight, task == Data.SegmentationTask.Multilabel ? MultiLabel(t) : Create(t, ignoreIndex, processes))).ToList());

    /// <summary>
    /// The multilabel counterparts: cross_entropy is a sigmoid binary cross-entropy per class, dice a sigmoid Dice per
    /// class. The other terms are defined over one class per pixel and are refused.
    /// </summary>
    public static ISegmentationLoss MultiLabel(LossTermSpec spec) => spec switch
    {
        CrossEntropySpec { LabelSmoothing: 0, BorderWeight: 0 } t => new BinaryCrossEntropyLoss(t.ClassWeights),
        DiceSpec t => new DiceLoss(Data.LabelBits.Ignore, t.Smooth, multiLabel: true),
        _ => throw new SegSharpException($"loss term {Foundation.OptionNames<LossKind>.Name(spec.Kind)}" +
            (spec is CrossEntropySpec ? " with label_smoothing or border_weight" : "") + " is defined for one class per pixel; with task: multilabel " +
            "use cross_entropy (a sigmoid per class, class_weights allowed) and dice."),
    };

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
