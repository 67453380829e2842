using SegSharp.Foundation;

namespace SegSharp.Configuration;

/// <summary>optimizer.name.</summary>
public enum OptimizerKind
{
    [OptionName("adam")] Adam,
    [OptionName("adamw")] AdamW,
    [OptionName("sgd")] Sgd,
}
