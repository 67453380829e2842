using System.Text.Json;

namespace SegSharp.Tests.Documentation;

/// <summary>
/// notebooks/experiments.ipynb runs headless, every cell, under Debian's jupyter-nbconvert with the repository's .NET
/// Interactive kernel (local tool manifest dotnet-tools.json, kernelspec in notebooks/kernels), loading SegSharp from the
/// build output. The stored notebook carries no outputs.
/// </summary>
[Collection("training")]
[Trait("Tier", "EndToEnd")]
public sealed class NotebookTests : IDisposable
{
    private readonly string _folder = TestPaths.TempFolder("notebook");

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void The_experiments_notebook_runs_every_cell_headless_and_shows_curves_tables_and_images()
    {
        string notebook = Path.Combine(TestPaths.RepositoryRoot, "notebooks", "experiments.ipynb");
        using (var stored = JsonDocument.Parse(File.ReadAllText(notebook)))
            foreach (var cell in stored.RootElement.GetProperty("cells").EnumerateArray().Where(c => c.GetProperty("cell_type").GetString() == "code"))
                Assert.Equal(0, cell.GetProperty("outputs").GetArrayLength());

        // The notebook is generated: make_notebook.py must write exactly the committed file, or an edit to one was lost.
        string generated = Path.Combine(_folder, "generated.ipynb");
        Run(Prerequisite.Python, Path.Combine(TestPaths.RepositoryRoot, "notebooks", "make_notebook.py"), generated);
        Assert.True(File.ReadAllText(generated) == File.ReadAllText(notebook),
            "notebooks/experiments.ipynb differs from what notebooks/make_notebook.py writes: edit the script and run it");

        Run("dotnet", "tool", "restore");
        string executed = Path.Combine(_folder, "executed.ipynb");
        // The kernel's temp folder is this test's, so the notebook's runs (hundreds of MB) go when the test ends.
        RunWithTemp(_folder, "jupyter", "nbconvert", "--to", "notebook", "--execute", notebook, "--output", executed, "--ExecutePreprocessor.timeout=600");

        using var result = JsonDocument.Parse(File.ReadAllText(executed));
        var outputs = result.RootElement.GetProperty("cells").EnumerateArray()
            .Where(c => c.GetProperty("cell_type").GetString() == "code")
            .SelectMany(c => c.GetProperty("outputs").EnumerateArray()).ToList();
        Assert.DoesNotContain(outputs, o => o.GetProperty("output_type").GetString() == "error");
        var html = outputs.Where(o => o.TryGetProperty("data", out var d) && d.TryGetProperty("text/html", out _))
            .Select(o => string.Concat(o.GetProperty("data").GetProperty("text/html").EnumerateArray().Select(l => l.GetString()))).ToList();
        // The comparison plot, three overlays, two predictions: PNG images inline; the metrics and metrics.jsonl tables.
        Assert.True(html.Count(h => h.Contains("data:image/png;base64,", StringComparison.Ordinal)) >= 6, $"{html.Count} html outputs");
        Assert.Contains(html, h => h.Contains("<th>mIoU</th>", StringComparison.Ordinal) && h.Contains("cross-entropy + Dice", StringComparison.Ordinal)
            && h.Contains("FPN on ResNet-18", StringComparison.Ordinal));
        Assert.Contains(html, h => h.Contains("<th>train_loss</th>", StringComparison.Ordinal));
        string text = string.Concat(outputs.Where(o => o.GetProperty("output_type").GetString() == "stream")
            .SelectMany(o => o.GetProperty("text").EnumerateArray()).Select(l => l.GetString()));
        Assert.Contains("libtorch 2.10.0", text, StringComparison.Ordinal);
        Assert.Contains("pixels per class", text, StringComparison.Ordinal);
    }

    private static void Run(string file, params string[] args) => RunWithTemp(null, file, args);

    private static void RunWithTemp(string? temp, string file, params string[] args)
    {
        var environment = new Dictionary<string, string> { ["JUPYTER_PATH"] = Path.Combine(TestPaths.RepositoryRoot, "notebooks") };
        if (temp is not null) environment["TMPDIR"] = temp;
        ChildProcess.Run(file, TestPaths.RepositoryRoot, environment, args);
    }
}
