using static TorchSharp.torch;

namespace SegSharp.Models;

/// <summary>The precision names the config accepts, and the convolution compute type each stands for.</summary>
public static class ComputePrecision
{
    /// <summary>train.precision: float32, or bfloat16 convolutions with float32 master weights and gradients.</summary>
    public static readonly string[] Training = { "float32", "bf16-mixed" };

    /// <summary>
    /// evaluation.precision: float32, bfloat16 convolutions around float32 weights, or auto: bfloat16 where the CPU
    /// has bfloat16 instructions (AVX-512 BF16 or AMX), where it measured faster at equal Dice, else float32.
    /// </summary>
    public static readonly string[] Inference = { "auto", "float32", "bfloat16" };

    /// <summary>True when /proc/cpuinfo lists avx512_bf16 or amx_bf16.</summary>
    public static bool CpuHasBfloat16 => Runtime.CpuInfo.Flags.Contains("avx512_bf16") || Runtime.CpuInfo.Flags.Contains("amx_bf16");

    /// <returns>The convolution compute type; null for float32.</returns>
    public static ScalarType? Of(string precision) => precision switch
    {
        "auto" => CpuHasBfloat16 ? ScalarType.BFloat16 : null,
        "float32" => null,
        "bf16-mixed" or "bfloat16" => ScalarType.BFloat16,
        _ => throw new ArgumentOutOfRangeException(nameof(precision), precision, $"allowed: {string.Join(", ", Training.Concat(Inference).Distinct())}"),
    };

    /// <summary>The name of what <paramref name="precision"/> resolves to here ("float32" or "bfloat16").</summary>
    public static string Resolve(string precision) => Of(precision) is null ? "float32" : "bfloat16";
}
