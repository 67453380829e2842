using SegSharp.Runtime;
using SegSharp.Tests.Cli;

namespace SegSharp.Tests.Runtime;

public class CpuKindTests
{
    private static HashSet<string> Flags(params string[] flags) => new(flags, StringComparer.Ordinal);

    [Theory]
    [InlineData("sse4_2", "baseline")]
    [InlineData("avx2 fma", "avx2")]
    [InlineData("avx2 fma avx512f avx512_vnni", "avx512")]
    [InlineData("avx2 fma avx512f avx512_bf16", "avx512-bf16")]
    [InlineData("avx2 fma avx512f avx512_bf16 amx_bf16 amx_tile", "amx")]
    public void The_hardware_kind_is_the_widest_instruction_set_present(string flags, string kind) =>
        Assert.Equal(kind, CpuKind.Effective(Flags(flags.Split(' ')), null, null));

    [Theory]
    [InlineData("AVX2", null, "avx2")]
    [InlineData("avx2_vnni", null, "avx2")]
    [InlineData("AVX512_CORE", null, "avx512")]
    [InlineData("AVX512_CORE_VNNI", null, "avx512")]
    [InlineData("AVX512_CORE_BF16", null, "avx512-bf16")]
    [InlineData("AVX512_CORE_AMX", null, "amx")]
    [InlineData("ALL", null, "amx")]
    [InlineData("SSE41", null, "baseline")]
    [InlineData(null, "avx2", "avx2")]
    [InlineData(null, "avx512", "amx")]
    [InlineData(null, "default", "baseline")]
    [InlineData("AVX512_CORE_BF16", "avx2", "avx2")]
    public void Caps_lower_an_amx_machine_s_kind(string? oneDnn, string? aten, string kind) =>
        Assert.Equal(kind, CpuKind.Effective(Flags("avx2", "fma", "avx512f", "avx512_bf16", "amx_bf16"), oneDnn, aten));

    [Fact]
    public void A_cap_above_the_hardware_does_not_raise_the_kind() =>
        Assert.Equal("avx2", CpuKind.Effective(Flags("avx2", "fma"), "AVX512_CORE_AMX", "avx512"));

    /// <summary>libtorch's own report, read through its C++ export, agrees with what /proc/cpuinfo says this CPU can do.</summary>
    [Fact]
    public void LibTorch_reports_the_capability_the_cpu_flags_allow()
    {
        Assert.Null(Environment.GetEnvironmentVariable("ATEN_CPU_CAPABILITY"));
        var flags = CpuInfo.Flags;
        string expected = new[] { "avx512f", "avx512bw", "avx512vl", "avx512dq" }.All(flags.Contains) ? "AVX512"
            : flags.Contains("avx2") && flags.Contains("fma") ? "AVX2" : "DEFAULT";
        Assert.Equal(expected, CpuKind.LibTorchCapability());
    }

    /// <summary>
    /// In a real process with the caps set, libtorch runs at the capped level, <c>info</c> names the capped kind, and
    /// <c>precision: auto</c> resolves to float32 (bfloat16 without its instructions is emulated and slower).
    /// </summary>
    [Fact]
    public void Under_an_avx2_cap_info_reports_avx2_kernels_and_auto_precision_is_float32()
    {
        if (!CpuInfo.Flags.Contains("avx2")) return;   // the cap needs an AVX2 CPU to mean anything
        var (code, output, error) = CliProcess.Run(new[] { "info" },
            new Dictionary<string, string> { ["ONEDNN_MAX_CPU_ISA"] = "AVX2", ["ATEN_CPU_CAPABILITY"] = "avx2" });
        Assert.True(code == 0, output + error);
        Assert.Contains("libtorch_cpu_capability: AVX2\n", output);
        Assert.Contains("inference_precision_auto: float32\n", output);
        string hardware = CpuKind.Hardware;
        Assert.Contains(hardware == "avx2" ? "cpu_kind: avx2\n" : $"cpu_kind: avx2 (capped on an {hardware} CPU)\n", output);
    }
}
