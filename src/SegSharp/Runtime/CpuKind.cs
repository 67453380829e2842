using System.Runtime.InteropServices;

namespace SegSharp.Runtime;

/// <summary>
/// The kind of CPU as far as speed goes: the widest instruction set libtorch's kernels use here. Kinds, narrowest
/// first: <c>baseline</c> (no AVX2), <c>avx2</c> (AVX2 + FMA), <c>avx512</c>, <c>avx512-bf16</c> (AVX-512 with
/// BF16, no AMX) and <c>amx</c> (AMX-BF16). The hardware's kind comes from /proc/cpuinfo; <c>ONEDNN_MAX_CPU_ISA</c>
/// (or its older name <c>DNNL_MAX_CPU_ISA</c>) and <c>ATEN_CPU_CAPABILITY</c> cap what libtorch uses below it, which
/// is how a wider machine reproduces an AVX2 one's kernels.
/// </summary>
public static class CpuKind
{
    /// <summary>The kinds, narrowest first; a kind's index is its rank.</summary>
    public static IReadOnlyList<string> Kinds => Ordered;

    private static readonly string[] Ordered = ["baseline", "avx2", "avx512", "avx512-bf16", "amx"];

    private const string AtenCapabilityExport = "_ZN2at18get_cpu_capabilityB5cxx11Ev";

    /// <summary>This process's kind: the hardware's, capped by the environment variables above.</summary>
    public static string Current => Effective(CpuInfo.Flags, OneDnnCap, Environment.GetEnvironmentVariable("ATEN_CPU_CAPABILITY"));

    /// <summary>The hardware's kind, whatever the environment caps.</summary>
    public static string Hardware => Ordered[HardwareRank(CpuInfo.Flags)];

    /// <summary>The oneDNN instruction-set cap in force (<c>ONEDNN_MAX_CPU_ISA</c>, else <c>DNNL_MAX_CPU_ISA</c>), or null.</summary>
    public static string? OneDnnCap =>
        Environment.GetEnvironmentVariable("ONEDNN_MAX_CPU_ISA") is { Length: > 0 } onednn ? onednn : Environment.GetEnvironmentVariable("DNNL_MAX_CPU_ISA");

    /// <summary>True when this process's kernels can use bfloat16 instructions (AVX-512 BF16 or AMX, not capped below them).</summary>
    public static bool HasBfloat16 => Array.IndexOf(Ordered, Current) >= Array.IndexOf(Ordered, "avx512-bf16");

    /// <summary>The kind for CPU <paramref name="flags"/> under a oneDNN cap and an ATen capability cap (either may be null).</summary>
    public static string Effective(IReadOnlySet<string> flags, string? oneDnnCap, string? atenCapability)
    {
        int rank = HardwareRank(flags);
        if (OneDnnCapRank(oneDnnCap) is int onednn) rank = Math.Min(rank, onednn);
        if (AtenCapRank(atenCapability) is int aten) rank = Math.Min(rank, aten);
        return Ordered[rank];
    }

    /// <summary>A person's name for <paramref name="kind"/>, e.g. "AVX2 + FMA, no AVX-512".</summary>
    public static string Describe(string kind) => kind switch
    {
        "amx" => "AVX-512 with AMX-BF16",
        "avx512-bf16" => "AVX-512 with BF16, no AMX",
        "avx512" => "AVX-512 without BF16",
        "avx2" => "AVX2 + FMA, no AVX-512",
        "baseline" => "no AVX2",
        _ => throw new ArgumentException($"Unknown CPU kind '{kind}' (one of {string.Join(", ", Kinds)}).", nameof(kind)),
    };

    /// <summary>The instruction sets that decide convolution speed, e.g. "AVX2 yes, FMA yes, AVX-512 yes, VNNI yes, BF16 yes, AMX no".</summary>
    public static string InstructionSets(IReadOnlySet<string> flags)
    {
        static string YesNo(bool present) => present ? "yes" : "no";
        return $"AVX2 {YesNo(flags.Contains("avx2"))}, FMA {YesNo(flags.Contains("fma"))}, AVX-512 {YesNo(flags.Contains("avx512f"))}, " +
            $"VNNI {YesNo(flags.Contains("avx512_vnni") || flags.Contains("avx_vnni"))}, BF16 {YesNo(flags.Contains("avx512_bf16"))}, " +
            $"AMX {YesNo(flags.Contains("amx_bf16"))}";
    }

    /// <summary>
    /// The CPU capability libtorch's own (ATen) kernels were built for and chose here ("AVX512", "AVX2", "DEFAULT"), read
    /// from <c>at::get_cpu_capability()</c>; null when the export is missing or the process is not x86-64.
    /// </summary>
    public static unsafe string? LibTorchCapability()
    {
        // The hidden result pointer is the first argument only in the x86-64 System V convention (AArch64 passes it in x8).
        if (RuntimeInformation.ProcessArchitecture != Architecture.X64) return null;
        TorchRuntime.EnsureLoaded();
        if (!NativeLibraries.TryLoad("torch_cpu", out IntPtr library) || !NativeLibrary.TryGetExport(library, AtenCapabilityExport, out IntPtr function))
            return null;
        // The function returns a libstdc++ std::string through a hidden result pointer: data pointer, length, then a
        // 16-byte local buffer. Every capability name fits that buffer (a longer one would leak its few bytes, once).
        byte* result = stackalloc byte[32];
        ((delegate* unmanaged<byte*, byte*>)function)(result);
        byte* data = *(byte**)result;
        long length = *(long*)(result + 8);
        return length is > 0 and < 64 ? System.Text.Encoding.ASCII.GetString(data, (int)length) : null;
    }

    private static int HardwareRank(IReadOnlySet<string> flags) =>
        flags.Contains("amx_bf16") ? 4 : flags.Contains("avx512_bf16") ? 3 : flags.Contains("avx512f") ? 2 : flags.Contains("avx2") ? 1 : 0;

    /// <summary>ONEDNN_MAX_CPU_ISA values: SSE41, AVX, AVX2, AVX2_VNNI, AVX512_CORE, AVX512_CORE_VNNI, AVX512_CORE_BF16, AVX512_CORE_AMX, ALL.</summary>
    private static int? OneDnnCapRank(string? value)
    {
        string v = (value ?? "").Trim().ToUpperInvariant();
        if (v.Length == 0 || v == "ALL") return null;
        return v.Contains("AMX", StringComparison.Ordinal) ? 4
            : v.Contains("BF16", StringComparison.Ordinal) || v.Contains("FP16", StringComparison.Ordinal) ? 3
            : v.StartsWith("AVX512", StringComparison.Ordinal) ? 2
            : v.StartsWith("AVX2", StringComparison.Ordinal) ? 1 : 0;
    }

    /// <summary>ATEN_CPU_CAPABILITY values: default, avx2, avx512 (its own kernels have no wider level, so avx512 caps nothing).</summary>
    private static int? AtenCapRank(string? value) => (value ?? "").Trim().ToLowerInvariant() switch
    {
        "avx2" => 1,
        "default" => 0,
        _ => null,
    };
}
