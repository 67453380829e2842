using SegSharp.Foundation;

namespace SegSharp.Configuration;

/// <summary>loss.terms[].name: one term of the training loss.</summary>
public enum LossKind
{
    [OptionName("cross_entropy")] CrossEntropy,
    [OptionName("dice")] Dice,
    [OptionName("focal")] Focal,
    [OptionName("tversky")] Tversky,
    [OptionName("ohem_cross_entropy")] OhemCrossEntropy,
    [OptionName("lovasz_softmax")] LovaszSoftmax,
}
