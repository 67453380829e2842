using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;
using SegSharp.Configuration;
using SegSharp.Models;
using SegSharp.Runtime;
using SegSharp.Training;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace SegSharp.Tests.Models;

/// <summary>
/// ML.NET's pretrained ResNet-18 inside SegSharp's encoder computes what ONNX Runtime computes from the package's own
/// files (ResNetPreprocess.onnx, then ResNet18.onnx): the reference is the original graph, run independently.
/// </summary>
public class MlnetResNet18Tests(ITestOutputHelper output)
{
    private static string Preprocess => Path.Combine(AppContext.BaseDirectory, "pretrained", "mlnet-resnet18-preprocess.onnx");

    [Fact]
    public void Pooled_features_equal_onnx_runtime_on_the_original_files()
    {
        using var encoder = Pretrained(outputStride: 32);
        using var original = new OriginalFiles();
        for (int seed = 0; seed < 3; seed++)
        {
            using var scope = NewDisposeScope();
            var (bgr, pooled) = original.Run(Image(seed));
            var expected = tensor(pooled, new long[] { 1, 512 });
            // SegSharp's stem takes RGB (the BGR order is folded into its weights): the same preprocessed pixels, channels reversed.
            var actual = Pooled(encoder, tensor(bgr, new long[] { 1, 3, 224, 224 }).flip(1));
            double difference = (actual - expected).abs().max().item<float>();
            output.WriteLine($"image {seed}: max |difference| {difference:E2} on features up to {expected.abs().max().item<float>():F2}");
            Assert.True(difference <= 1e-4, $"pooled features differ by {difference}");
        }
    }

    [Fact]
    public void Built_in_preprocessing_uses_the_mean_images_channel_averages()
    {
        var model = Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(Preprocess));
        var mean = Assert.Single(model.Graph.Initializer);
        var values = mean.RawData.Length > 0 ? MemoryMarshal.Cast<byte, float>(mean.RawData.Span).ToArray() : mean.FloatData.ToArray();
        int plane = 224 * 224;
        // The file's mean image is in B, G, R order; SegSharp's constants are R, G, B.
        for (int c = 0; c < 3; c++)
        {
            double average = values.Skip(c * plane).Take(plane).Average(v => (double)v);
            Assert.Equal(average, MlnetPreprocessing.ChannelMeans[2 - c], 3);
        }
    }

    [Fact]
    public void Plain_rgb_pixels_through_the_built_in_preprocessing_stay_close_to_the_original()
    {
        using var encoder = Pretrained(outputStride: 32);
        using var original = new OriginalFiles();
        var pixels = Image(7);
        using var expected = tensor(original.Run(pixels).Pooled, new long[] { 1, 512 });
        using var noGrad = no_grad();
        using var guard = NativeScalarGuard.Enter();
        using var input = tensor(pixels, new long[] { 1, 3, 224, 224 }) / 255;
        var (_, high) = encoder.forward(input);
        using var actual = high.mean(new long[] { 2, 3 });
        high.Dispose();
        double cosine = nn.functional.cosine_similarity(actual, expected).item<float>();
        output.WriteLine($"channel means instead of the mean image: cosine similarity of pooled features {cosine:F5}");
        // The mean image varies by a few grey levels around its channel averages; the features barely move.
        Assert.True(cosine > 0.999, $"cosine similarity {cosine}");
    }

    [Fact]
    public void A_file_that_is_not_resnet18_is_refused_naming_what_differs()
    {
        using var unet = OnnxExportTests.Build(new[] { "model.name=unet", "model.depth=2", "model.width=4" }, classes: 2);
        string path = Path.Combine(TestPaths.TempFolder("not-resnet"), "unet.onnx");
        OnnxExport.Write(unet, OnnxExportTests.Card(unet, Array.Empty<string>()), "{}", path);
        using var encoder = new ResNetEncoder(EncoderKind.MlnetResNet18, 3, NormKind.Batch);
        var error = Assert.Throws<SegSharpException>(() => MlnetResNet18Weights.LoadInto(encoder, path));
        Assert.Contains("is not the 7x7 stride-2 one ResNet-18 has there", error.Message);
        error = Assert.Throws<SegSharpException>(() => MlnetResNet18Weights.LoadInto(encoder, path + ".missing"));
        Assert.Contains("do not exist; set model.encoder_weights: pretrained", error.Message);
    }

    [Fact]
    public void Frozen_encoder_norms_keep_their_statistics_while_the_decoder_learns_at_its_own_rate()
    {
        var config = SegSharpConfig.Load(null, new[]
        {
            "model.name=deeplabv3plus", "model.encoder=mlnet-resnet18", "model.encoder_weights=pretrained", "model.freeze_encoder_norm=true",
            "optimizer.encoder_lr_factor=0.1", "transforms.train=[]", "transforms.val=[]",
        });
        using var model = (DeepLabV3Plus)ModelFactory.Create(config.Model, 3, 4, seed: 1);
        MlnetResNet18Weights.LoadInto(model.Encoder, MlnetResNet18Weights.BundledPath);
        using var optimizer = OptimizerFactory.Create(config.Optimizer, model);
        OptimizerFactory.SetLearningRate(optimizer, config.Optimizer, 0.01);
        var groups = optimizer.ParamGroups.ToList();
        Assert.Equal(2, groups.Count);
        Assert.Equal(new[] { 0.001, 0.01 }, groups.Select(g => Math.Round(g.LearningRate, 6)));
        Assert.Equal(model.Encoder.parameters().Count(), ((TorchSharp.Modules.ParamGroup)groups[0]).Parameters.Count());

        var encoderStats = model.Encoder.state_dict().Where(kv => kv.Key.EndsWith("running_mean", StringComparison.Ordinal))
            .ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        var decoderStat = model.state_dict().First(kv => kv.Key.StartsWith("_aspp", StringComparison.Ordinal) && kv.Key.EndsWith("running_mean",
            StringComparison.Ordinal));
        using var decoderBefore = decoderStat.Value.clone();
        model.train();
        using (var guard = NativeScalarGuard.Enter())
        using (var scope = NewDisposeScope())
        {
            var loss = model.forward(rand(2, 3, 64, 64)).square().mean();
            loss.backward();
            optimizer.step();
        }
        foreach (var (key, before) in encoderStats) Assert.True(before.equal(model.Encoder.state_dict()[key]).all().item<bool>(), $"{key} changed");
        Assert.False(decoderBefore.equal(decoderStat.Value).all().item<bool>(), "the decoder's batch norm should still learn its statistics");
        foreach (var stat in encoderStats.Values) stat.Dispose();
    }

    [Fact]
    public void The_pretrained_keyword_needs_the_mlnet_encoder_and_the_encoder_normalises_itself()
    {
        var error = Assert.Throws<ConfigException>(() => SegSharpConfig.Load(null, new[]
            { "model.name=deeplabv3plus", "model.encoder=resnet18", "model.encoder_weights=pretrained" }));
        Assert.Contains("'pretrained' only with encoder: mlnet-resnet18", error.Message);
        error = Assert.Throws<ConfigException>(() =>
            SegSharpConfig.Load(TestPaths.Config("camvid-deeplab-scratch.yaml"), new[] { "model.encoder=mlnet-resnet18" }));
        Assert.Contains("remove the normalize step from transforms.train and transforms.val", error.Message);
    }

    /// <summary>The package's own two ONNX files in ONNX Runtime: preprocessing, then the network up to its pooled features.</summary>
    private sealed class OriginalFiles : IDisposable
    {
        private readonly InferenceSession _preprocess = new(Preprocess);
        private readonly InferenceSession _network = new(MlnetResNet18Weights.BundledPath);
        private readonly RunOptions _options = new();

        /// <returns>The preprocessed BGR pixels [1, 3, 224, 224] and the pooled features [1, 512].</returns>
        public (float[] Bgr, float[] Pooled) Run(float[] rgb)
        {
            using var input = OrtValue.CreateTensorValueFromMemory(rgb, new long[] { 1, 3, 224, 224 });
            using var prepared = _preprocess.Run(_options, new[] { "OriginalInput" }, new[] { input }, new[] { "PreprocessedInput" });
            using var pooled = _network.Run(_options, new[] { "Input247" }, new[] { prepared[0] }, new[] { "Pooling395_Output_0" });
            return (prepared[0].GetTensorDataAsSpan<float>().ToArray(), pooled[0].GetTensorDataAsSpan<float>().ToArray());
        }

        public void Dispose()
        {
            _preprocess.Dispose();
            _network.Dispose();
            _options.Dispose();
        }
    }

    /// <summary>
    /// The pretrained encoder on an N-band dataset (the documented rule: the stem's RGB kernels go to channel c mod 3,
    /// scaled by 3/N; channel c subtracts RGB channel c mod 3's mean): an RGB image repeated to 6 bands gives the
    /// 3-channel encoder's features exactly, and 2 or 4 bands build, load and run.
    /// </summary>
    [Fact]
    public void The_pretrained_encoder_takes_n_bands_and_six_bands_of_repeated_rgb_give_the_rgb_features()
    {
        using var rgb = Pretrained(outputStride: 32);
        using var six = Pretrained(outputStride: 32, channels: 6);
        using var generator = new Generator(0);
        generator.manual_seed(11);
        using var image = rand(new long[] { 2, 3, 64, 96 }, generator: generator);
        using var expected = RunAll(rgb, image);
        using var repeated = cat(new[] { image, image }, 1);
        using var actual = RunAll(six, repeated);
        double error = (actual - expected).abs().max().item<float>(), scale = expected.abs().max().item<float>();
        output.WriteLine($"6 bands: max |difference| {error:E2} of features up to {scale:F2}");
        Assert.True(scale > 0.1 && error <= 1e-5 * Math.Max(1, scale), $"features differ by {error} (scale {scale})");
        foreach (int channels in new[] { 2, 4 })
        {
            using var encoder = Pretrained(outputStride: 32, channels);
            using var stem = encoder.state_dict()["_stem.0.weight"];
            Assert.Equal(new long[] { 64, channels, 7, 7 }, stem.shape);
            using var features = RunAll(encoder, image[.., ..1].expand(2, channels, 64, 96));
            Assert.True(features.isfinite().all().item<bool>());
        }
    }

    private static Tensor RunAll(ResNetEncoder encoder, Tensor input)
    {
        using var noGrad = no_grad();
        using var guard = NativeScalarGuard.Enter();
        var (low, high) = encoder.forward(input);
        low.Dispose();
        return high;
    }

    private static ResNetEncoder Pretrained(int outputStride, int channels = 3)
    {
        var encoder = new ResNetEncoder(EncoderKind.MlnetResNet18, channels, NormKind.Batch, outputStride);
        MlnetResNet18Weights.LoadInto(encoder, MlnetResNet18Weights.BundledPath);
        encoder.eval();
        return encoder;
    }

    private static Tensor Pooled(ResNetEncoder encoder, Tensor prepared)
    {
        using var noGrad = no_grad();
        using var guard = NativeScalarGuard.Enter();
        var (low, high) = encoder.Features(prepared);
        low.Dispose();
        return high.mean(new long[] { 2, 3 });
    }

    /// <summary>A smooth random RGB image [3, 224, 224] in 0..255 (blobs of colour, like a photo rather than noise).</summary>
    private static float[] Image(int seed)
    {
        using var generator = new Generator((ulong)seed + 1);
        using var coarse = rand(new long[] { 1, 3, 14, 14 }, generator: generator) * 255;
        using var smooth = nn.functional.interpolate(coarse, new long[] { 224, 224 }, mode: InterpolationMode.Bilinear, align_corners: false);
        return smooth.contiguous().data<float>().ToArray();
    }
}
