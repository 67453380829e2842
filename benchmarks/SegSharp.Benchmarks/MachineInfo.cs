using System.Runtime.InteropServices;
using SegSharp.Runtime;

namespace SegSharp.Benchmarks;

/// <summary>
/// What the figures were measured on: CPU model, its kind (<see cref="CpuKind"/>: the widest instruction set libtorch's kernels
/// use, which decides which table of docs/performance.md a run replaces), the instruction sets, the kernels libtorch chose
/// (its own CPU capability and oneDNN's convolution implementations, read from oneDNN's verbose log) and the convolution ceiling.
/// </summary>
public sealed record MachineInfo(string Cpu, int LogicalCores, int Threads, string Kind, string HardwareKind, string? Cap, string InstructionSets,
    string LibTorchCapability, string OneDnn, double CeilingGflops, string OperatingSystem, string DotNet, string TorchSharp, string LibTorch,
    long MemoryBytes, string ConvolutionKernels, string MallocHugePages = "")
{
    /// <summary>Reads the machine, starting one short child process for oneDNN's verbose log and timing the ceiling (~10 s).</summary>
    public static MachineInfo Read(int threads)
    {
        var caps = new[] { ("ONEDNN_MAX_CPU_ISA", CpuKind.OneDnnCap), ("ATEN_CPU_CAPABILITY", Environment.GetEnvironmentVariable("ATEN_CPU_CAPABILITY")) };
        string cap = string.Join(", ", caps.Where(v => !string.IsNullOrEmpty(v.Item2)).Select(v => $"{v.Item1}={v.Item2}"));
        return new MachineInfo(CpuInfo.Model, Environment.ProcessorCount, threads, CpuKind.Current, CpuKind.Hardware, cap.Length > 0 ? cap : null,
            CpuKind.InstructionSets(CpuInfo.Flags), CpuKind.LibTorchCapability() ?? "unknown", OneDnnKernels.Probe(threads),
            Measure.ConvolutionCeilingGflops(10), RuntimeInformation.OSDescription, RuntimeInformation.FrameworkDescription,
            TorchRuntime.TorchSharpVersion, TorchRuntime.LibTorchVersion, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes,
            ConvolutionKernelCheck.Current.Describe(), Runtime.MallocHugePages.Describe());
    }

    /// <summary>The kind as a reader names it, with the cap when one is set: "avx2 (AVX2 + FMA, no AVX-512; capped on an avx512-bf16 CPU by ...)".</summary>
    public string KindTitle => $"{Kind} ({KindName})";

    /// <summary>The kind in words, with the cap when one is set: "AVX2 + FMA, no AVX-512; capped on an avx512-bf16 CPU by ...".</summary>
    public string KindName => Cap is null ? CpuKind.Describe(Kind) : $"{CpuKind.Describe(Kind)}; capped on an {HardwareKind} CPU by {Cap}";

    public string Describe() =>
        $"{Cpu}, {LogicalCores} logical cores, {Threads} libtorch threads, {MemoryBytes / (1L << 30)} GiB; CPU kind {KindTitle}; {InstructionSets}; " +
        $"libtorch kernels {LibTorchCapability}; {OneDnn}; conv ceiling {CeilingGflops:F1} GFLOP/s float32; {OperatingSystem}; {DotNet}; " +
        $"TorchSharp {TorchSharp}, libtorch {LibTorch}; {ConvolutionKernels}; malloc huge pages {MallocHugePages}";
}
