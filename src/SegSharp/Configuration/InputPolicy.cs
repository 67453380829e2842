using SegSharp.Foundation;

namespace SegSharp.Configuration;

/// <summary>model.input_policy: pad inputs to the model's stride and crop the output back, or refuse them before the forward pass.</summary>
public enum InputPolicy
{
    [OptionName("pad")] Pad,
    [OptionName("strict")] Strict,
}
