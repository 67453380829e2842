namespace SegSharp.Tests;

/// <summary>Locations the tests read: the repository root and ../shared/datasets beside it.</summary>
public static class TestPaths
{
    public static string RepositoryRoot { get; } = FindRoot();

    public static string SharedDatasets => Path.GetFullPath(Path.Combine(RepositoryRoot, "..", "shared", "datasets"));

    public static string Isbi => Path.Combine(SharedDatasets, "isbi2012-membrane");

    public static string IsbiDescription => Path.Combine(RepositoryRoot, "configs", "isbi2012-membrane.dataset.yaml");

    public static string Config(string name) => Path.Combine(RepositoryRoot, "configs", name);

    /// <summary>
    /// A fresh empty folder under the system temp folder, inside this test run's folder when ./test.sh names one
    /// (SEGSHARP_TEST_RUN), which it removes after a passing run.
    /// </summary>
    public static string TempFolder(string prefix)
    {
        string run = Environment.GetEnvironmentVariable("SEGSHARP_TEST_RUN") ?? "";
        string path = Path.Combine(Path.GetTempPath(), "segsharp-tests", run, $"{prefix}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(path);
        return path;
    }

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "SegSharp.slnx"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("SegSharp.slnx not found above the test binaries.");
    }
}
