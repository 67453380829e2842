using System.Diagnostics;
using SegSharp.Tests.Training;
using SegSharp.Training;

namespace SegSharp.Tests.Cli;

/// <summary>A failing file system is one line and exit code 3, and a run that hit a full disk resumes exactly once space is back.</summary>
[Collection("training")]
[Trait("Tier", "EndToEnd")]
public class FileSystemFaultTests
{
    [Fact]
    public void An_output_folder_that_cannot_be_created_is_exit_code_3_and_one_line()
    {
        string file = Path.Combine(TestPaths.TempFolder("not-a-folder"), "file");
        File.WriteAllText(file, "a file, not a folder");
        var (code, stdout, error) = CliProcess.Run(Args(Path.Combine(file, "run")));
        Assert.True(code == 3, stdout + error);
        string line = Assert.Single(error.Trim().Split('\n'));
        Assert.StartsWith("error: file system: ", line, StringComparison.Ordinal);
        Assert.Contains(file, line);
        Assert.DoesNotContain("Unhandled exception", error);
    }

    [SkippableFact]
    public void A_full_disk_stops_with_exit_code_3_and_the_run_resumes_exactly_after_space_is_freed()
    {
        string mount = TestPaths.TempFolder("small-disk");
        Skip.IfNot(Mount(mount, "48k"), $"cannot mount a small tmpfs at {mount} (needs root and a kernel that allows it)");
        try
        {
            string folder = Path.Combine(mount, "run");
            var (code, stdout, error) = CliProcess.Run(Args(folder));
            Assert.True(code == 3, $"exit {code}\n{stdout}\n{error}");
            Assert.Contains("No space left on device", error);
            Assert.Single(error.Trim().Split('\n'));

            Assert.True(Mount(mount, "16m", remount: true));
            var (again, resumedOut, resumedError) = CliProcess.Run(Args(folder));
            Assert.True(again == 0, resumedOut + resumedError);
            string reference = TinyRun.Train(TestPaths.TempFolder("disk-reference")).WeightsHash;
            Assert.Contains($"weights sha256: {reference}", resumedOut);
            Assert.Empty(Directory.EnumerateFiles(folder, "*.tmp", SearchOption.AllDirectories));
        }
        finally
        {
            Process.Start("umount", new[] { mount })!.WaitForExit();
        }
    }

    /// <summary>
    /// A disk that fills at a different moment of the run each time (more or less free space at the start): whatever write
    /// fails, no half-written .tmp is left holding the space, freeing the space the failure asked for lets the same command
    /// finish, and best.ckpt holds the weights summary.json names as best: those of the uninterrupted run.
    /// </summary>
    [SkippableTheory]
    [InlineData(120)]
    [InlineData(200)]
    [InlineData(280)]
    [InlineData(360)]
    [InlineData(440)]
    public void Wherever_the_disk_fills_nothing_is_left_half_written_and_best_ckpt_agrees_with_summary_json(int freeKilobytes)
    {
        string mount = TestPaths.TempFolder("filling-disk");
        Skip.IfNot(Mount(mount, "2m"), $"cannot mount a small tmpfs at {mount} (needs root and a kernel that allows it)");
        try
        {
            string ballast = Path.Combine(mount, "ballast");
            File.WriteAllBytes(ballast, new byte[(2048 - freeKilobytes) * 1024]);
            string folder = Path.Combine(mount, "run");
            var (code, stdout, error) = CliProcess.Run(Args(folder));
            Assert.True(code is 0 or 3, $"exit {code}\n{stdout}\n{error}");
            Assert.Empty(Directory.EnumerateFiles(mount, "*.tmp", SearchOption.AllDirectories));
            File.Delete(ballast);
            var (again, resumedOut, resumedError) = CliProcess.Run(Args(folder));
            Assert.True(again == 0, resumedOut + resumedError);

            var reference = Reference.Value;
            Assert.Contains($"weights sha256: {reference.Hash}", resumedOut);
            var best = Checkpoint.Parse(File.ReadAllBytes(Path.Combine(folder, "checkpoints", "best.ckpt")));
            using var summary = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "summary.json")));
            Assert.Equal(reference.BestEpoch, summary.RootElement.GetProperty("best_epoch").GetInt32());
            Assert.Equal(reference.BestEpoch, best.State.BestEpoch + 1);
            Assert.Equal(reference.BestWeights, best.Model);
        }
        finally
        {
            Process.Start("umount", new[] { mount })!.WaitForExit();
        }
    }

    private static readonly Lazy<(string Hash, int BestEpoch, byte[] BestWeights)> Reference = new(() =>
    {
        string folder = TestPaths.TempFolder("disk-reference");
        var result = TinyRun.Train(folder);
        var best = Checkpoint.Parse(File.ReadAllBytes(Path.Combine(folder, "checkpoints", "best.ckpt")));
        return (result.WeightsHash, result.State.BestEpoch + 1, best.Model);
    });

    private static List<string> Args(string outputDirectory)
    {
        var args = CliProcess.TinyTrain(outputDirectory);
        args.Add("--no-evaluate");
        return args;
    }

    private static bool Mount(string path, string size, bool remount = false)
    {
        var info = new ProcessStartInfo("mount") { RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in remount ? new[] { "-o", $"remount,size={size}", path } : new[] { "-t", "tmpfs", "-o", $"size={size}", "tmpfs", path })
            info.ArgumentList.Add(a);
        try
        {
            using var process = Process.Start(info)!;
            process.WaitForExit();
            return process.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }
}
