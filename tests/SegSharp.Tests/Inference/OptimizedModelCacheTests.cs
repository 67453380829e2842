using SegSharp.Configuration;
using SegSharp.Foundation;
using SegSharp.Inference;
using SegSharp.Models;
using SegSharp.Tests.Models;

namespace SegSharp.Tests.Inference;

/// <summary>
/// ONNX Runtime's optimised graph is kept next to the model and used the next time: the same logits as optimising afresh,
/// the model card intact, a new file when the model changes (the stale one removed), and a damaged cache rebuilt.
/// </summary>
public class OptimizedModelCacheTests
{
    private static string Evaluation => System.Text.Json.JsonSerializer.Serialize(SegSharp.Configuration.SegSharpConfig.Load(null, null).Evaluation,
        SegSharp.Foundation.JsonFormats.Compact);

    [Fact]
    public void The_optimised_graph_is_kept_reused_with_the_same_logits_and_rebuilt_when_the_model_changes()
    {
        string folder = TestPaths.TempFolder("ort-cache");
        string path = Path.Combine(folder, "model.onnx");
        string[] settings = { "model.name=unet", "model.depth=2", "model.width=8" };
        using (var model = OnnxExportTests.Build(settings, classes: 3))
            OnnxExport.Write(model, OnnxExportTests.Card(model, settings), Evaluation, path);
        var images = Enumerable.Range(0, 3 * 40 * 52).Select(i => (float)Math.Sin(i * 0.37)).ToArray();

        float[] first, cached, fresh;
        string cacheFile;
        using (var model = OnnxModel.Load(path))
        {
            Assert.False(model.CacheHit);
            cacheFile = model.CacheFile!;
            Assert.True(File.Exists(cacheFile));
            Assert.StartsWith(path + ".", cacheFile);
            first = model.Logits(images, 1, 40, 52);
        }
        using (var model = OnnxModel.Load(path))
        {
            Assert.True(model.CacheHit);
            Assert.Equal(new[] { "a", "b", "c" }, model.Card.Classes.Select(c => c.Name));
            cached = model.Logits(images, 1, 40, 52);
        }
        using (var model = OnnxModel.Load(path, cache: false))
        {
            Assert.Null(model.CacheFile);
            fresh = model.Logits(images, 1, 40, 52);
        }
        Assert.Equal(first, cached);
        Assert.True(fresh.Zip(cached).Max(p => Math.Abs(p.First - p.Second)) < 1e-5);

        // A damaged cache is rebuilt; a changed model gets its own cache and the stale one goes.
        File.WriteAllBytes(cacheFile, new byte[] { 1, 2, 3 });
        using (var model = OnnxModel.Load(path))
        {
            Assert.False(model.CacheHit);
            Assert.Equal(first, model.Logits(images, 1, 40, 52));
        }
        string[] wider = { "model.name=unet", "model.depth=2", "model.width=12" };
        using (var model = OnnxExportTests.Build(wider, classes: 3))
            OnnxExport.Write(model, OnnxExportTests.Card(model, wider), Evaluation, path);
        using (var model = OnnxModel.Load(path))
        {
            Assert.False(model.CacheHit);
            Assert.NotEqual(cacheFile, model.CacheFile);
            Assert.Equal(new[] { model.CacheFile }, Directory.GetFiles(folder, "*" + OptimizedModelCache.Suffix));
        }
    }

    [Fact]
    public void Each_optimisation_level_gives_the_same_logits_and_keeps_its_own_cache_none_keeps_none()
    {
        string folder = TestPaths.TempFolder("ort-levels");
        string path = Path.Combine(folder, "model.onnx");
        string[] settings = { "model.name=unet", "model.depth=2", "model.width=8" };
        using (var model = OnnxExportTests.Build(settings, classes: 3))
            OnnxExport.Write(model, OnnxExportTests.Card(model, settings), Evaluation, path);
        var images = Enumerable.Range(0, 3 * 40 * 52).Select(i => (float)Math.Cos(i * 0.21)).ToArray();
        float[] reference;
        using (var none = OnnxModel.Load(path, optimization: GraphOptimization.None))
        {
            Assert.Null(none.CacheFile);
            Assert.Empty(Directory.GetFiles(folder, "*" + OptimizedModelCache.Suffix));
            reference = none.Logits(images, 1, 40, 52);
        }
        foreach (var level in new[] { GraphOptimization.Basic, GraphOptimization.Extended, GraphOptimization.All })
        {
            using var model = OnnxModel.Load(path, optimization: level);
            Assert.Equal(level, model.Optimization);
            Assert.Contains($"-{OptionNames<GraphOptimization>.Name(level)}-cpu", model.CacheFile);
            var logits = model.Logits(images, 1, 40, 52);
            Assert.True(logits.Zip(reference).Max(p => Math.Abs(p.First - p.Second)) < 1e-5, $"{level}");
        }
        // One cache per model: the last level's.
        Assert.Single(Directory.GetFiles(folder, "*" + OptimizedModelCache.Suffix));
    }
}
