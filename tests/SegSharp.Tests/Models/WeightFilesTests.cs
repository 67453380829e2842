using System.IO.Compression;
using System.Text.Json;
using SegSharp.Configuration;
using SegSharp.Models;
using SegSharp.Training;

namespace SegSharp.Tests.Models;

/// <summary>State dicts leave and enter SegSharp whole: same weights back, every key named on a mismatch.</summary>
public class WeightFilesTests
{
    private static SegmentationModel Model(long seed, params string[] settings) =>
        ModelFactory.Create(SegSharpConfig.Load(null, new[] { "model.depth=2", "model.width=4" }.Concat(settings).ToList()).Model, 3, 4, seed);

    [Theory]
    [InlineData("model.safetensors", WeightFileFormat.Safetensors)]
    [InlineData("model.pt", WeightFileFormat.PyTorch)]
    public void Written_weights_load_back_into_another_model_bit_for_bit(string name, WeightFileFormat format)
    {
        string path = Path.Combine(TestPaths.TempFolder("weights"), name);
        using var source = Model(1);
        using var target = Model(2);
        Assert.NotEqual(Checkpoint.WeightsHash(source), Checkpoint.WeightsHash(target));
        Assert.Equal(format, WeightFiles.FormatOf(path));
        WeightFiles.Write(source, path, format);
        WeightFiles.LoadInto(target, path);
        Assert.Equal(Checkpoint.WeightsHash(source), Checkpoint.WeightsHash(target));
        Assert.False(File.Exists(path + ".tmp"));
    }

    /// <summary>Every architecture export knows (each decoder on each encoder and norm) goes out and back bit for bit.</summary>
    [Theory]
    [MemberData(nameof(OnnxExportTests.Architectures), MemberType = typeof(OnnxExportTests))]
    [Trait("Tier", "Reference")]
    public void Every_architecture_round_trips_through_safetensors(string[] settings)
    {
        string path = Path.Combine(TestPaths.TempFolder("weights-all"), "model.safetensors");
        using var source = Model(11, settings);
        using var target = Model(12, settings);
        Assert.NotEqual(Checkpoint.WeightsHash(source), Checkpoint.WeightsHash(target));
        WeightFiles.Write(source, path, WeightFileFormat.Safetensors);
        WeightFiles.LoadInto(target, path);
        Assert.Equal(Checkpoint.WeightsHash(source), Checkpoint.WeightsHash(target));
    }

    [Fact]
    public void The_safetensors_header_lists_every_tensor_with_its_dtype_and_shape()
    {
        string path = Path.Combine(TestPaths.TempFolder("header"), "model.safetensors");
        using var model = Model(1);
        WeightFiles.Write(model, path, WeightFileFormat.Safetensors);
        // The format, read here without the library: 8-byte little-endian header length, then the JSON header.
        var bytes = File.ReadAllBytes(path);
        long length = BitConverter.ToInt64(bytes, 0);
        var header = JsonDocument.Parse(bytes.AsMemory(8, (int)length)).RootElement;
        var expected = model.state_dict();
        var entries = header.EnumerateObject().Where(p => p.Name != "__metadata__").ToList();
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), entries.Select(e => e.Name).Order(StringComparer.Ordinal));
        foreach (var entry in entries)
        {
            var tensor = expected[entry.Name];
            Assert.Equal(tensor.dtype == TorchSharp.torch.ScalarType.Int64 ? "I64" : "F32", entry.Value.GetProperty("dtype").GetString());
            Assert.Equal(tensor.shape, entry.Value.GetProperty("shape").EnumerateArray().Select(v => v.GetInt64()).ToArray());
        }
    }

    [Fact]
    public void The_pytorch_file_is_a_zip_with_a_pickle_and_one_storage_per_tensor()
    {
        string path = Path.Combine(TestPaths.TempFolder("zip"), "model.pt");
        using var model = Model(1);
        WeightFiles.Write(model, path, WeightFileFormat.PyTorch);
        using var zip = ZipFile.OpenRead(path);
        Assert.Contains(zip.Entries, e => e.FullName.EndsWith("/data.pkl", StringComparison.Ordinal));
        Assert.Equal(model.state_dict().Count, zip.Entries.Count(e => e.FullName.Contains("/data/", StringComparison.Ordinal)));
    }

    [Fact]
    public void A_file_of_another_model_is_refused_naming_missing_unexpected_and_mis_shaped_keys()
    {
        string folder = TestPaths.TempFolder("mismatch");
        using var deeper = Model(1, "model.depth=3");
        WeightFiles.Write(deeper, Path.Combine(folder, "deeper.safetensors"), WeightFileFormat.Safetensors);
        using var target = Model(2);
        string before = Checkpoint.WeightsHash(target);
        var error = Assert.Throws<SegSharpException>(() => WeightFiles.LoadInto(target, Path.Combine(folder, "deeper.safetensors")));
        Assert.Contains("does not fit the model: ", error.Message);
        Assert.Contains("unexpected (_encoders.3._layers.0.weight", error.Message);
        Assert.Contains("mis-shaped (", error.Message);
        Assert.Equal(before, Checkpoint.WeightsHash(target)); // nothing was half-loaded

        using var wider = Model(1, "model.width=8");
        WeightFiles.Write(wider, Path.Combine(folder, "wider.pt"), WeightFileFormat.PyTorch);
        error = Assert.Throws<SegSharpException>(() => WeightFiles.LoadInto(target, Path.Combine(folder, "wider.pt")));
        Assert.Contains("_encoders.0._layers.0.weight (model [4, 3, 3, 3], file [8, 3, 3, 3])", error.Message);
        Assert.DoesNotContain("missing", error.Message);
    }

    [Fact]
    public void Unknown_extensions_and_missing_files_are_clear_errors()
    {
        Assert.Contains("use .safetensors, or .pt/.pth", Assert.Throws<SegSharpException>(() => WeightFiles.FormatOf("model.onnx")).Message);
        Assert.Contains("does not exist", Assert.Throws<SegSharpException>(() => WeightFiles.Read("/nonexistent/model.pt")).Message);
    }
}
