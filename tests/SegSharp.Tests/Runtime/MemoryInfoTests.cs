using System.Diagnostics;
using SegSharp.Runtime;
using SegSharp.Tests.Cli;

namespace SegSharp.Tests.Runtime;

public sealed class MemoryInfoTests : IDisposable
{
    private readonly string _root = TestPaths.TempFolder("meminfo");

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void A_cgroup_v2_limit_below_the_machine_s_free_memory_is_what_is_available()
    {
        Write("proc/meminfo", "MemTotal: 25000000 kB\nMemAvailable: 20000000 kB\n");
        Write("proc/self/cgroup", "0::/job/step\n");
        Write("cg/job/memory.max", "4294967296\n");                  // 4 GiB for the job
        Write("cg/job/memory.current", "1073741824\n");              // 1 GiB used
        Write("cg/job/step/memory.max", "max\n");
        Write("cg/job/step/memory.current", "536870912\n");
        Write("cg/job/memory.stat", "anon 1\ninactive_file 268435456\n");   // 256 MiB of reclaimable cache
        Assert.Equal(3L * (1 << 30) + (1 << 28), MemoryInfo.AvailableBytes(P("proc"), P("cg")));
    }

    [Fact]
    public void A_cgroup_v1_memory_limit_counts_and_no_limit_leaves_the_machine_s_figure()
    {
        Write("proc/meminfo", "MemAvailable: 1048576 kB\n");
        Write("proc/self/cgroup", "5:cpu:/x\n4:memory:/docker/abc\n0::/\n");
        Write("cg/memory/docker/abc/memory.limit_in_bytes", "9223372036854771712\n");     // v1's "no limit"
        Write("cg/memory/docker/abc/memory.usage_in_bytes", "100\n");
        Assert.Equal(1L << 30, MemoryInfo.AvailableBytes(P("proc"), P("cg")));
        Write("cg/memory/docker/memory.limit_in_bytes", "536870912\n");
        Write("cg/memory/docker/memory.usage_in_bytes", "268435456\n");
        Assert.Equal(1L << 28, MemoryInfo.AvailableBytes(P("proc"), P("cg")));
    }

    /// <summary>
    /// The batch-memory check inside a real 2 GiB memory cgroup (v1, made under this process's own group): the batch that
    /// the machine's 20+ GB would allow is refused with the group's figure instead of being killed without a message.
    /// </summary>
    [SkippableFact]
    [Trait("Tier", "EndToEnd")]
    public void Training_in_a_memory_limited_cgroup_refuses_a_batch_that_does_not_fit_the_limit()
    {
        string? own = File.ReadLines("/proc/self/cgroup").Select(l => l.Split(':', 3)).FirstOrDefault(p => p.Length == 3 && p[1] == "memory")?[2];
        string parent = own is null ? "" : Path.Combine("/sys/fs/cgroup/memory", own.TrimStart('/'));
        Skip.If(own is null || !Directory.Exists(parent), "no cgroup v1 memory controller here to make a limited group in");
        string group = Path.Combine(parent, $"segsharp-test-{Guid.NewGuid():N}");
        try
        {
            Directory.CreateDirectory(group);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Skip.If(true, $"cannot create a memory cgroup under {parent} ({e.Message}; needs root)");
        }
        try
        {
            File.WriteAllText(Path.Combine(group, "memory.limit_in_bytes"), $"{2L << 30}");
            var args = CliProcess.TinyTrain(TestPaths.TempFolder("cgroup-run"), "model.depth=4", "model.width=32", "train.batch_size=96",
                "train.iters_per_epoch=1", "train.epochs=1");
            var info = new ProcessStartInfo("sh") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            info.ArgumentList.Add("-c");
            info.ArgumentList.Add("echo $$ > \"$0/cgroup.procs\" && exec dotnet \"$@\"");
            info.ArgumentList.Add(group);
            info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "SegSharp.Cli.dll"));
            foreach (var a in args) info.ArgumentList.Add(a);
            info.Environment["CI"] = "true";
            using var process = Process.Start(info)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            string error = process.StandardError.ReadToEnd();
            process.WaitForExit();
            Assert.True(process.ExitCode == 2, $"exit {process.ExitCode}\n{stdout.Result}\n{error}");
            string line = Assert.Single(error.Trim().Split('\n'));
            Assert.Contains("train.batch_size 96", line, StringComparison.Ordinal);
            var available = System.Text.RegularExpressions.Regex.Match(line, @"but ([0-9.]+) GB of memory are available");
            Assert.True(available.Success, line);
            Assert.True(double.Parse(available.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) <= 2.0, line);
        }
        finally
        {
            Directory.Delete(group);
        }
    }

    private string P(string relative) => Path.Combine(_root, relative);

    private void Write(string relative, string text)
    {
        string path = P(relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
    }
}
