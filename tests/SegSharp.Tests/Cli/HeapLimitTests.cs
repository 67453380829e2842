using System.Text.Json;

namespace SegSharp.Tests.Cli;

/// <summary>environment.json records the memory the .NET GC may use, so a run under a heap limit says so.</summary>
[Collection("training")]
[Trait("Tier", "EndToEnd")]
public class HeapLimitTests
{
    private static long HeapAvailableMb(string runDirectory)
    {
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(runDirectory, "environment.json")));
        return json.RootElement.GetProperty("environment").GetProperty("dot_net_heap_available_mb").GetInt64();
    }

    [Fact]
    public void Environment_json_records_the_heap_limit_in_force_and_the_machine_s_memory_without_one()
    {
        string root = TestPaths.TempFolder("heap-limit");
        string free = Path.Combine(root, "free"), limited = Path.Combine(root, "limited");
        var (code, output, error) = CliProcess.Run(CliProcess.TinyTrain(free, "train.epochs=1", "evaluation.samples=0"));
        Assert.True(code == 0, output + error);
        var (limitedCode, limitedOutput, limitedError) = CliProcess.Run(CliProcess.TinyTrain(limited, "train.epochs=1", "evaluation.samples=0"),
            new Dictionary<string, string> { ["DOTNET_GCHeapHardLimit"] = "0x40000000" });
        Assert.True(limitedCode == 0, limitedOutput + limitedError);
        Assert.Equal(1024, HeapAvailableMb(limited));
        long machineMb = long.Parse(File.ReadLines("/proc/meminfo").First(l => l.StartsWith("MemTotal:", StringComparison.Ordinal))
            .Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) >> 10;
        // Without a limit: the machine's memory, or a container's limit below it.
        Assert.InRange(HeapAvailableMb(free), 1025, machineMb);
    }
}
