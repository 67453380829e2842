using Microsoft.ML.OnnxRuntime;
using SegSharp.Configuration;
using SegSharp.Models;
using SegSharp.Runtime;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace SegSharp.Tests.Models;

/// <summary>
/// Every model SegSharp builds, exported to ONNX and run by ONNX Runtime, gives TorchSharp's logits: max |difference|
/// ≤ 1e-4 and the same argmax on ≥ 99.99% of pixels, at odd and even sizes and batch 2. Batch-norm statistics are
/// made non-trivial first, so a wrong epsilon, a swapped mean/var or a missing crop shows.
/// </summary>
public class OnnxExportTests(ITestOutputHelper output)
{
    /// <summary>Every architecture, norm and upsampling combination SegSharp builds, as config overrides.</summary>
    public static readonly string[][] ArchitectureSettings =
    {
        new[] { "model.name=unet", "model.norm=batch", "model.upsampling=transpose" },
        new[] { "model.name=unet", "model.norm=batch", "model.upsampling=bilinear" },
        new[] { "model.name=unet", "model.norm=group", "model.upsampling=transpose" },
        new[] { "model.name=unet", "model.norm=group", "model.upsampling=bilinear" },
        new[] { "model.name=unet", "model.norm=none", "model.upsampling=transpose" },
        new[] { "model.name=unet", "model.norm=none", "model.upsampling=bilinear" },
        new[] { "model.name=deeplabv3plus", "model.encoder=resnet18", "model.norm=batch" },
        new[] { "model.name=deeplabv3plus", "model.encoder=resnet34", "model.norm=batch" },
        new[] { "model.name=deeplabv3plus", "model.encoder=resnet50", "model.norm=batch" },
        new[] { "model.name=deeplabv3plus", "model.encoder=resnet18", "model.norm=group" },
        new[] { "model.name=deeplabv3plus", "model.encoder=resnet50", "model.norm=group" },
        new[] { "model.name=deeplabv3plus", "model.encoder=resnet18", "model.norm=none" },
        new[] { "model.name=deeplabv3plus", "model.encoder=mlnet-resnet18", "model.norm=batch" },
        new[] { "model.name=unet", "model.encoder=resnet18", "model.norm=batch" },
        new[] { "model.name=unet", "model.encoder=resnet34", "model.norm=group" },
        new[] { "model.name=unet", "model.encoder=mlnet-resnet18", "model.norm=batch" },
        new[] { "model.name=linknet", "model.encoder=resnet18", "model.norm=batch" },
        new[] { "model.name=linknet", "model.encoder=resnet50", "model.norm=group" },
        new[] { "model.name=linknet", "model.encoder=mlnet-resnet18", "model.norm=none" },
        new[] { "model.name=fpn", "model.encoder=resnet18", "model.norm=batch" },
        new[] { "model.name=fpn", "model.encoder=resnet34", "model.norm=group" },
        new[] { "model.name=fpn", "model.encoder=resnet50", "model.norm=batch" },
        new[] { "model.name=fpn", "model.encoder=resnet18", "model.norm=none" },
        new[] { "model.name=fpn", "model.encoder=mlnet-resnet18", "model.norm=batch" },
    };

    public static TheoryData<string[]> Architectures => new(ArchitectureSettings);

    [Theory]
    [MemberData(nameof(Architectures))]
    [Trait("Tier", "Reference")]
    public void Onnx_runtime_gives_torchsharps_logits_at_odd_sizes_and_batch_two(string[] settings)
    {
        using var model = Build(settings.Append("model.width=16").Append("model.depth=3").ToArray(), classes: 5);
        var file = OnnxExport.Build(model, Card(model, settings), "{}");
        using var session = new InferenceSession(Google.Protobuf.MessageExtensions.ToByteArray(file));
        foreach (var (batch, height, width) in new[] { (1, 29, 37), (1, 96, 128), (2, 33, 50) })
        {
            using var scope = NewDisposeScope();
            var images = Random(batch, model.InputChannels, height, width, seed: height * 1000 + width);
            var expected = Forward(model, images);
            var actual = Run(session, images);
            Assert.Equal(expected.shape, actual.shape);
            double difference = (actual - expected).abs().max().item<float>();
            double agreement = actual.argmax(1).eq(expected.argmax(1)).to(float64).mean().item<double>();
            double spread = expected.std().item<float>();
            output.WriteLine($"{string.Join(' ', settings)} {batch}x{height}x{width}: max |difference| {difference:E2} (logits' std {spread:F3}), " +
                $"argmax agreement {agreement:P4}");
            // Logits near zero would make any graph pass an absolute tolerance: hold the difference to their spread too.
            Assert.True(spread > 0.01, $"logits' std {spread} is too small for the comparison to mean anything");
            Assert.True(difference <= 1e-4 && difference <= 1e-4 * spread, $"logits differ by {difference} at {batch}x{height}x{width}");
            Assert.True(agreement >= 0.9999, $"argmax agrees on {agreement:P4} at {batch}x{height}x{width}");
        }
    }

    /// <summary>N-band inputs (2, 4, 6) through ML.NET's pretrained encoder, whose built-in preprocessing has a twin in the graph.</summary>
    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    [InlineData(6)]
    public void N_band_models_export_with_onnx_runtime_parity(int channels)
    {
        string[] settings = { "model.name=unet", "model.encoder=mlnet-resnet18", "model.encoder_weights=pretrained", "model.norm=batch" };
        using var model = Build(settings, classes: 3, channels);
        ModelFactory.LoadStartingWeights(model, SegSharpConfig.Load(null, settings).Model);
        var file = OnnxExport.Build(model, Card(model, settings), "{}");
        Assert.Equal(channels, file.Graph.Input[0].Type.TensorType.Shape.Dim[1].DimValue);
        Assert.Contains($"{channels}-band pixels", file.MetadataProps.Single(p => p.Key == OnnxExport.MetadataKeys.Input).Value);
        using var session = new InferenceSession(Google.Protobuf.MessageExtensions.ToByteArray(file));
        using var scope = NewDisposeScope();
        var images = Random(1, channels, 45, 70, seed: channels);
        var expected = Forward(model, images);
        var actual = Run(session, images);
        double difference = (actual - expected).abs().max().item<float>(), spread = expected.std().item<float>();
        output.WriteLine($"{channels} bands: max |difference| {difference:E2} (logits' std {spread:F3})");
        Assert.True(spread > 0.01 && difference <= 1e-4 * Math.Max(1, spread), $"logits differ by {difference} (std {spread})");
    }

    [Fact]
    public void The_file_holds_the_logical_float32_weights_under_their_state_dict_names()
    {
        // 5 output classes is not a multiple of 16: the head is the convolution the kernel-defect guard pads while computing.
        using var model = Build(new[] { "model.name=unet", "model.depth=2", "model.width=4" }, classes: 5);
        model.ComputeType = ScalarType.BFloat16;
        var file = OnnxExport.Build(model, Card(model, Array.Empty<string>()), "{}");
        var initializers = file.Graph.Initializer.ToDictionary(t => t.Name);
        foreach (var (name, tensor) in model.state_dict().Where(kv => kv.Value.dtype == ScalarType.Float32))
        {
            if (name.EndsWith("num_batches_tracked", StringComparison.Ordinal)) continue;
            Assert.True(initializers.TryGetValue(name, out var stored), $"{name} is not in the ONNX file");
            Assert.Equal(tensor.shape, stored.Dims.ToArray());
            Assert.Equal((int)Onnx.TensorProto.Types.DataType.Float, stored.DataType);
            Assert.Equal(tensor.data<float>().ToArray(), System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(stored.RawData.Span).ToArray());
        }
        Assert.Equal(new long[] { 5, 4, 1, 1 }, initializers["_head.weight"].Dims.ToArray());
    }

    [Fact]
    public void The_file_declares_opset_17_dynamic_sizes_and_the_model_card()
    {
        using var model = Build(new[] { "model.name=unet", "model.depth=2", "model.width=4" }, classes: 3);
        var card = Card(model, Array.Empty<string>());
        var file = OnnxExport.Build(model, card, "{\"tile_size\":0}");
        Assert.Equal(8, file.IrVersion);
        Assert.Equal(17, Assert.Single(file.OpsetImport).Version);
        var input = Assert.Single(file.Graph.Input);
        Assert.Equal("image", input.Name);
        Assert.Equal(new[] { "batch", "", "height", "width" }, input.Type.TensorType.Shape.Dim.Select(d => d.DimParam));
        Assert.Equal(new[] { "logits", "labels" }, file.Graph.Output.Select(o => o.Name));
        var metadata = file.MetadataProps.ToDictionary(p => p.Key, p => p.Value);
        Assert.Equal("[\"a\",\"b\",\"c\"]", metadata[OnnxExport.MetadataKeys.Classes]);
        Assert.Equal("[[0,0,0],[255,0,0],[0,255,0]]", metadata[OnnxExport.MetadataKeys.Colors]);
        Assert.Equal("{\"mean\":[0.5],\"std\":[0.25]}", metadata[OnnxExport.MetadataKeys.Normalize]);
        Assert.Equal("4", metadata[OnnxExport.MetadataKeys.Stride]);
        Assert.Equal("pad", metadata[OnnxExport.MetadataKeys.InputPolicy]);
        var stored = System.Text.Json.JsonSerializer.Deserialize<ModelCard>(metadata[OnnxExport.MetadataKeys.ModelCard],
            SegSharp.Foundation.JsonFormats.Compact)!;
        static IEnumerable<string> Classes(ModelCard c) => c.Classes.Select(k => $"{k.Name}={k.Value}:{string.Join(',', k.Color)}");
        Assert.Equal(Classes(card), Classes(stored));
        Assert.Equal((card.Stride, card.InputChannels, card.IgnoreIndex, card.Model), (stored.Stride, stored.InputChannels, stored.IgnoreIndex, stored.Model));
    }

    [Fact]
    public void The_labels_output_is_the_argmax_of_the_logits()
    {
        using var model = Build(new[] { "model.name=unet", "model.depth=2", "model.width=4" }, classes: 3);
        var file = OnnxExport.Build(model, Card(model, Array.Empty<string>()), "{}");
        using var session = new InferenceSession(Google.Protobuf.MessageExtensions.ToByteArray(file));
        var images = Random(2, 3, 21, 18, seed: 1).data<float>().ToArray();
        using var input = OrtValue.CreateTensorValueFromMemory(images, new long[] { 2, 3, 21, 18 });
        using var runOptions = new RunOptions();
        using var results = session.Run(runOptions, new[] { "image" }, new[] { input }, new[] { "logits", "labels" });
        var logits = results[0].GetTensorDataAsSpan<float>().ToArray();
        var labels = results[1].GetTensorDataAsSpan<long>().ToArray();
        Assert.Equal(new long[] { 2, 21, 18 }, results[1].GetTensorTypeAndShape().Shape);
        int plane = 21 * 18;
        for (int n = 0; n < 2; n++)
            for (int i = 0; i < plane; i++)
            {
                var scores = Enumerable.Range(0, 3).Select(c => logits[(n * 3 + c) * plane + i]).ToList();
                Assert.Equal(scores.IndexOf(scores.Max()), labels[n * plane + i]);
            }
    }

    [Fact]
    public void A_module_without_a_translation_is_refused_by_name()
    {
        var graph = new OnnxGraph("test", new Dictionary<IntPtr, string>());
        using var tanh = nn.Tanh();
        var error = Assert.Throws<SegSharpException>(() => graph.Add(nn.Sequential(tanh), "x"));
        Assert.Contains("does not know the module type Tanh", error.Message);
    }

    internal static SegmentationModel Build(string[] settings, int classes, int channels = 3)
    {
        var model = ModelFactory.Create(SegSharpConfig.Load(null, settings).Model, channels, classes, seed: 3);
        // Move batch-norm statistics away from (0, 1), so the exported running mean and variance matter.
        using (var noGrad = no_grad())
        using (var guard = NativeScalarGuard.Enter())
        {
            model.train();
            for (int i = 0; i < 3; i++)
            {
                using var scope = NewDisposeScope();
                model.forward(Random(4, channels, 64, 64, seed: 100 + i) * 2 + 0.5);
            }
        }
        model.eval();
        return model;
    }

    internal static ModelCard Card(SegmentationModel model, string[] settings)
    {
        var config = SegSharpConfig.Load(null, settings);
        return new ModelCard
        {
            SegSharpVersion = "test", Model = config.Model, InputChannels = model.InputChannels,
            Classes = Enumerable.Range(0, model.Classes).Select(i => new ModelCardClass(((char)('a' + i)).ToString(), i,
                new[] { i == 1 ? 255 : 0, i == 2 ? 255 : 0, i > 2 ? 255 : 0 })).ToList(),
            MaskEncoding = SegSharp.Data.MaskEncoding.Index, IgnoreIndex = 255,
            Preprocessing = new TransformSpec[] { new NormalizeSpec(new[] { 0.5 }, new[] { 0.25 }) },
            Stride = model.Stride, TrainedOn = "test",
        };
    }

    internal static Tensor Random(int batch, int channels, int height, int width, int seed)
    {
        using var generator = new Generator((ulong)seed);
        return rand(new long[] { batch, channels, height, width }, generator: generator);
    }

    internal static Tensor Forward(SegmentationModel model, Tensor images)
    {
        using var noGrad = no_grad();
        using var guard = NativeScalarGuard.Enter();
        return model.forward(images);
    }

    internal static Tensor Run(InferenceSession session, Tensor images)
    {
        using var input = OrtValue.CreateTensorValueFromMemory(images.contiguous().data<float>().ToArray(), images.shape);
        using var runOptions = new RunOptions();
        using var results = session.Run(runOptions, new[] { "image" }, new[] { input }, new[] { "logits" });
        return tensor(results[0].GetTensorDataAsSpan<float>().ToArray(), results[0].GetTensorTypeAndShape().Shape);
    }
}
