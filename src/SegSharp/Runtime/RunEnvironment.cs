using System.Reflection;
using System.Runtime.InteropServices;

namespace SegSharp.Runtime;

/// <summary>What a run ran on: versions, machine and the settings that decide whether results repeat bit for bit.</summary>
public sealed record RunEnvironment
{
    public required string SegSharpVersion { get; init; }
    public required string TorchSharpVersion { get; init; }
    public required string LibTorchVersion { get; init; }
    public required string DotNetVersion { get; init; }
    public required string OperatingSystem { get; init; }
    public required string Cpu { get; init; }
    public required int LogicalCores { get; init; }
    public required int Threads { get; init; }
    public required string Device { get; init; }
    public required bool? DeterministicAlgorithms { get; init; }
    public required string ConvolutionKernels { get; init; }

    /// <summary>The CPU kind libtorch's kernels run as (<see cref="Runtime.CpuKind"/>), e.g. "avx2"; empty in records written before it.</summary>
    public string CpuKind { get; init; } = "";

    /// <summary>The instruction sets that decide convolution speed, e.g. "AVX2 yes, FMA yes, AVX-512 no, ...".</summary>
    public string InstructionSets { get; init; } = "";

    /// <summary>libtorch's own kernel level here (at::get_cpu_capability(): "AVX512", "AVX2", "DEFAULT").</summary>
    public string LibTorchCpuCapability { get; init; } = "";

    /// <summary>Processes training together (mpirun -np N); 1 for a single process.</summary>
    public int WorldSize { get; init; } = 1;

    /// <summary>
    /// The memory the .NET GC lets its heap use, in MB: the machine's (or container's) memory, or a hard limit in force
    /// (<c>DOTNET_GCHeapHardLimit</c>; docs/performance.md measures what one does to a run).
    /// </summary>
    public long DotNetHeapAvailableMb { get; init; } = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes >> 20;

    /// <summary>What carries the collectives between processes, e.g. "Open MPI v4.1.4".</summary>
    public string Collective { get; init; } = SingleProcess.Instance.Implementation;

    /// <summary>Whether malloc gives libtorch's large allocations huge pages (<see cref="Runtime.MallocHugePages"/>); empty in older records.</summary>
    public string MallocHugePages { get; init; } = Runtime.MallocHugePages.Describe();

    /// <summary>This build's version and commit (e.g. "0.1.0+1a2b3c4").</summary>
    public static string CurrentSegSharpVersion { get; } =
        typeof(RunEnvironment).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    /// <summary>Reads the environment after applying <paramref name="threads"/> (0 = libtorch's default).</summary>
    public static RunEnvironment Capture(int threads, ICollective? collective = null) => new()
    {
        SegSharpVersion = CurrentSegSharpVersion,
        TorchSharpVersion = TorchRuntime.TorchSharpVersion,
        LibTorchVersion = TorchRuntime.LibTorchVersion,
        DotNetVersion = RuntimeInformation.FrameworkDescription,
        OperatingSystem = $"{RuntimeInformation.OSDescription} ({RuntimeInformation.RuntimeIdentifier})",
        Cpu = CpuInfo.Model,
        LogicalCores = Environment.ProcessorCount,
        Threads = TorchRuntime.ConfigureThreads(threads),
        Device = "cpu",
        DeterministicAlgorithms = DeterministicMode.IsEnabled(),
        ConvolutionKernels = ConvolutionKernelCheck.Current.Describe(),
        CpuKind = Runtime.CpuKind.Current == Runtime.CpuKind.Hardware ? Runtime.CpuKind.Current
            : $"{Runtime.CpuKind.Current} (capped on an {Runtime.CpuKind.Hardware} CPU)",
        InstructionSets = Runtime.CpuKind.InstructionSets(CpuInfo.Flags),
        LibTorchCpuCapability = Runtime.CpuKind.LibTorchCapability() ?? "unknown",
        WorldSize = collective?.Size ?? 1,
        Collective = (collective ?? SingleProcess.Instance).Implementation,
    };

    /// <summary>Things that would make the same config give different weights elsewhere.</summary>
    public IReadOnlyList<string> DeterminismCaveats() => new[]
    {
        $"Results repeat bit for bit for the same config, SegSharp and libtorch versions, CPU instruction set and thread count ({Threads}).",
        "A different thread count changes how reductions are split and so the rounding of sums.",
        "A different CPU (instruction set: AVX2 vs AVX-512) can select different oneDNN/MKL kernels.",
        "Where the convolution kernel check finds the channel-tail defect, padded convolutions round like 16-channel ones.",
        "A different libtorch version can change kernels and initialisation.",
        $"Data-parallel runs repeat bit for bit for the same number of processes ({WorldSize}) with Open MPI's fixed-order all-reduce " +
        "(coll_tuned_allreduce_algorithm=1, SegSharp's default); another number of processes sums gradients in another order.",
    };

    public IEnumerable<(string Key, string Value)> ToPairs()
    {
        yield return ("segsharp", SegSharpVersion);
        yield return ("torchsharp", TorchSharpVersion);
        yield return ("libtorch", LibTorchVersion);
        yield return ("dotnet", DotNetVersion);
        yield return ("os", OperatingSystem);
        yield return ("cpu", Cpu);
        yield return ("logical_cores", LogicalCores.ToString());
        yield return ("threads", Threads.ToString());
        yield return ("device", Device);
        yield return ("deterministic_algorithms", DeterministicAlgorithms?.ToString().ToLowerInvariant() ?? "unavailable");
        yield return ("cpu_kind", CpuKind);
        yield return ("instruction_sets", InstructionSets);
        yield return ("libtorch_cpu_capability", LibTorchCpuCapability);
        yield return ("convolution_kernels", ConvolutionKernels);
        yield return ("malloc_huge_pages", MallocHugePages);
        yield return ("dotnet_heap_available_mb", DotNetHeapAvailableMb.ToString(System.Globalization.CultureInfo.InvariantCulture));
        yield return ("world_size", WorldSize.ToString());
        yield return ("collective", Collective);
    }
}
