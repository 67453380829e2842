using Microsoft.ML.OnnxRuntime;
using MyApp;
using SegSharp.Models;
using SegSharp.Tests.Models;

namespace SegSharp.Tests.Documentation;

/// <summary>The C# example docs/interop.md shows is the file the test project compiles, and it segments as SegSharp does.</summary>
public class DocumentationExampleTests
{
    private static string Example => Path.Combine(TestPaths.RepositoryRoot, "docs", "examples", "OnnxSegmenter.cs");

    [Fact]
    public void Interop_page_shows_the_compiled_example_verbatim()
    {
        string page = File.ReadAllText(Path.Combine(TestPaths.RepositoryRoot, "docs", "interop.md"));
        Assert.Contains("```csharp\n" + File.ReadAllText(Example) + "```", page);
    }

    [Fact]
    public void Serving_page_shows_the_compiled_client_verbatim()
    {
        string page = File.ReadAllText(Path.Combine(TestPaths.RepositoryRoot, "docs", "serving.md"));
        string client = File.ReadAllText(Path.Combine(TestPaths.RepositoryRoot, "docs", "examples", "SegSharpClient.cs"));
        Assert.Contains("```csharp\n" + client + "```", page);
    }

    [Fact]
    public void The_example_normalises_as_the_card_says_and_returns_the_exported_models_labels()
    {
        using var model = OnnxExportTests.Build(new[] { "model.name=unet", "model.depth=2", "model.width=8" }, classes: 3);
        string path = Path.Combine(TestPaths.TempFolder("example"), "model.onnx");
        OnnxExport.Write(model, OnnxExportTests.Card(model, Array.Empty<string>()), "{}", path);
        using var images = OnnxExportTests.Random(1, 3, 27, 41, seed: 5);
        var pixels = images.data<float>().ToArray();

        using var segmenter = new OnnxSegmenter(path);
        long[] labels = segmenter.Segment(pixels, 3, 27, 41);

        // The card's normalisation is mean 0.5, std 0.25: SegSharp's own forward pass on normalised pixels.
        using var normalised = (images - 0.5) / 0.25;
        using var logits = OnnxExportTests.Forward(model, normalised);
        Assert.Equal(new[] { "a", "b", "c" }, segmenter.ClassNames);
        Assert.Equal(logits.argmax(1).data<long>().ToArray(), labels);
    }
}
