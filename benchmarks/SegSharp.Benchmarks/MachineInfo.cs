using System.Runtime.InteropServices;
using SegSharp.Runtime;

namespace SegSharp.Benchmarks;

/// <summary>What the figures were measured on: CPU model and the instruction sets that decide convolution speed.</summary>
public sealed record MachineInfo(string Cpu, int LogicalCores, int Threads, bool Avx512, bool Avx512Bf16, bool AmxBf16,
    string OperatingSystem, string DotNet, string TorchSharp, string LibTorch, long MemoryBytes, string ConvolutionKernels)
{
    public static MachineInfo Read(int threads)
    {
        var flags = CpuInfo.Flags;
        return new MachineInfo(CpuInfo.Model, Environment.ProcessorCount, threads, flags.Contains("avx512f"), flags.Contains("avx512_bf16"),
            flags.Contains("amx_bf16"), RuntimeInformation.OSDescription, RuntimeInformation.FrameworkDescription,
            TorchRuntime.TorchSharpVersion, TorchRuntime.LibTorchVersion, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes,
            ConvolutionKernelCheck.Current.Describe());
    }

    public string Describe() =>
        $"{Cpu}, {LogicalCores} logical cores, {Threads} libtorch threads, AVX-512 {(Avx512 ? "yes" : "no")}, " +
        $"AVX-512 BF16 {(Avx512Bf16 ? "yes" : "no")}, AMX-BF16 {(AmxBf16 ? "yes" : "no")}, {MemoryBytes / (1L << 30)} GiB; " +
        $"{OperatingSystem}; {DotNet}; TorchSharp {TorchSharp}, libtorch {LibTorch}; {ConvolutionKernels}";
}
