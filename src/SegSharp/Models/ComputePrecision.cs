using SegSharp.Configuration;
using static TorchSharp.torch;

namespace SegSharp.Models;

/// <summary>The convolution compute type each precision option stands for.</summary>
public static class ComputePrecision
{
    /// <summary>
    /// True when /proc/cpuinfo lists avx512_bf16 or amx_bf16 and ONEDNN_MAX_CPU_ISA / ATEN_CPU_CAPABILITY do not cap
    /// libtorch below them (see <see cref="Runtime.CpuKind"/>): without those instructions bfloat16 is emulated and slower.
    /// </summary>
    public static bool CpuHasBfloat16 => Runtime.CpuKind.HasBfloat16;

    /// <returns>The convolution compute type of training; null for float32.</returns>
    public static ScalarType? Of(TrainingPrecision precision) => precision switch
    {
        TrainingPrecision.Float32 => null,
        TrainingPrecision.Bf16Mixed => ScalarType.BFloat16,
    };

    /// <returns>
    /// The convolution compute type of inference; null for float32. <c>auto</c> is bfloat16 where the CPU has
    /// bfloat16 instructions (AVX-512 BF16 or AMX), where it measured faster at equal Dice, else float32.
    /// </returns>
    public static ScalarType? Of(InferencePrecision precision) => precision switch
    {
        InferencePrecision.Auto => CpuHasBfloat16 ? ScalarType.BFloat16 : null,
        InferencePrecision.Float32 => null,
        InferencePrecision.Bfloat16 => ScalarType.BFloat16,
    };

    /// <summary>The name of what <paramref name="precision"/> resolves to here ("float32" or "bfloat16").</summary>
    public static string Resolve(InferencePrecision precision) => Of(precision) is null ? "float32" : "bfloat16";
}
