using SegSharp.Foundation;

namespace SegSharp.Configuration;

/// <summary>evaluation.precision and predict --precision: bfloat16 where the CPU has bfloat16 instructions (auto), float32, or bfloat16.</summary>
public enum InferencePrecision
{
    [OptionName("auto")] Auto,
    [OptionName("float32")] Float32,
    [OptionName("bfloat16")] Bfloat16,
}
