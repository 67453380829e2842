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
