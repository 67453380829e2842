using SegSharp.Foundation;

namespace SegSharp.Configuration;

/// <summary>loss.terms[].name: one term of the training loss.</summary>
public enum LossKind
{
    [OptionName("cross_entropy")] CrossEntropy,
    [OptionName("dice")] Dice,
    [OptionName("focal")] Focal,
}
