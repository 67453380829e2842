using static TorchSharp.torch;

namespace SegSharp.Models;

/// <summary>The precision names the config accepts, and the convolution compute type each stands for.</summary>
public static class ComputePrecision
{
    /// <summary>train.precision: float32, or bfloat16 convolutions with float32 master weights and gradients.</summary>
    public static readonly string[] Training = { "float32", "bf16-mixed" };

    /// <summary>evaluation.precision: float32, or bfloat16 convolutions around float32 weights.</summary>
    public static readonly string[] Inference = { "float32", "bfloat16" };

    /// <returns>The convolution compute type; null for float32.</returns>
    public static ScalarType? Of(string precision) => precision switch
    {
        "float32" => null,
        "bf16-mixed" or "bfloat16" => ScalarType.BFloat16,
        _ => throw new ArgumentOutOfRangeException(nameof(precision), precision, $"allowed: {string.Join(", ", Training.Concat(Inference).Distinct())}"),
    };
}
