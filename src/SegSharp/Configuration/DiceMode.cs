using SegSharp.Foundation;

namespace SegSharp.Configuration;

/// <summary>loss.terms[].mode of a Dice term: softmax over C channels, or sigmoid on one channel.</summary>
public enum DiceMode
{
    [OptionName("multiclass")] Multiclass,
    [OptionName("binary")] Binary,
}
