using SegSharp.Foundation;

namespace SegSharp.Configuration;

/// <summary>train.precision: float32 throughout, or bfloat16 convolutions around float32 master weights and gradients.</summary>
public enum TrainingPrecision
{
    [OptionName("float32")] Float32,
    [OptionName("bf16-mixed")] Bf16Mixed,
}
