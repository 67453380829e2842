namespace SegSharp.Tests;

/// <summary>
/// What a test needs from the machine besides the build: Debian packages that ./test.sh installs (it runs apt-get for
/// what is missing, or prints the line to run). A test whose prerequisite is missing fails and says which package;
/// none skips quietly.
/// </summary>
public static class Prerequisite
{
    /// <summary>Debian's interpreter, which sees the python3-* packages (a python3 earlier on PATH may not).</summary>
    public const string Python = "/usr/bin/python3";

    /// <summary>Fails unless <paramref name="path"/> exists, naming the Debian package that provides it.</summary>
    public static void File(string path, string package)
    {
        if (!System.IO.File.Exists(path)) Assert.Fail($"{path} is missing: apt-get install {package} (./test.sh installs it)");
    }

    /// <summary>Fails unless Debian's python3 imports every module, naming the packages that provide them.</summary>
    public static void PythonModules(string packages, params string[] modules)
    {
        File(Python, packages);
        string script = string.Join("; ", modules.Select(m => $"import {m}"));
        var info = new System.Diagnostics.ProcessStartInfo(Python) { RedirectStandardError = true, UseShellExecute = false, ArgumentList = { "-c", script } };
        using var process = System.Diagnostics.Process.Start(info)!;
        string error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
            Assert.Fail($"{Python} cannot import {string.Join(", ", modules)} ({error.Trim().Split('\n')[^1]}): apt-get install {packages} " +
                "(./test.sh installs it)");
    }
}
