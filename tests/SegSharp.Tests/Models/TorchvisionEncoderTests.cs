using System.Diagnostics;
using SegSharp.Configuration;
using SegSharp.Models;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace SegSharp.Tests.Models;

/// <summary>
/// torchvision ResNet weights enter the DeepLabV3+ encoder through the key map and give torchvision's own features:
/// the reference is written by Debian's python3-torch/torchvision (scripts/torchvision_reference.py), independently
/// of SegSharp. CI installs them; elsewhere the test says it skipped when they are absent.
/// </summary>
[Trait("Tier", "Reference")]
public class TorchvisionEncoderTests(ITestOutputHelper output)
{
    private static readonly Lazy<string> Reference = new(WriteReference);

    [Theory]
    [InlineData("resnet18", EncoderKind.ResNet18)]
    [InlineData("resnet50", EncoderKind.ResNet50)]
    public void Encoder_features_equal_torchvision_at_layer1_and_dilated_layer4(string arch, EncoderKind kind)
    {
        Prerequisite.PythonModules("python3-torch python3-torchvision", "torch", "torchvision");
        string folder = Reference.Value;
        using var model = new DeepLabV3Plus(3, 2, kind, NormKind.Batch);
        TorchvisionResNet.LoadInto(model.Encoder, kind, Path.Combine(folder, $"{arch}.pt"));
        var features = WeightFiles.Read(Path.Combine(folder, $"{arch}-features.pt"));
        model.eval();
        using var noGrad = no_grad();
        var (low, high) = model.Encoder.forward(features["input"]);
        Assert.Equal(features["layer1"].shape, low.shape);
        Assert.Equal(features["layer4"].shape, high.shape);
        double lowError = (low - features["layer1"]).abs().max().item<float>(), highError = (high - features["layer4"]).abs().max().item<float>();
        double lowScale = features["layer1"].abs().max().item<float>(), highScale = features["layer4"].abs().max().item<float>();
        output.WriteLine($"{arch}: max |difference| layer1 {lowError:E2} (of values up to {lowScale:F1}), layer4 {highError:E2} (up to {highScale:F1})");
        // float32 accumulation through 50 layers of random weights: compare relative to the activations' size.
        Assert.True(lowError <= 1e-5 * Math.Max(1, lowScale), $"layer1 differs by {lowError}");
        Assert.True(highError <= 1e-5 * Math.Max(1, highScale), $"layer4 differs by {highError}");
    }

    /// <summary>
    /// The pretrained first convolution adapted to 1 or 6 input channels (the documented rule): a gray image on the
    /// 1-channel encoder, or repeated six times on the 6-channel one, gives the 3-channel encoder's features of that gray
    /// repeated in RGB, through the whole (dilated) network, with torchvision's own weights.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(6)]
    public void Pretrained_weights_adapt_to_other_input_channels_keeping_a_gray_images_features(int channels)
    {
        Prerequisite.PythonModules("python3-torch python3-torchvision", "torch", "torchvision");
        string file = Path.Combine(Reference.Value, "resnet18.pt");
        using var rgb = new DeepLabV3Plus(3, 2, EncoderKind.ResNet18, NormKind.Batch);
        using var other = new DeepLabV3Plus(channels, 2, EncoderKind.ResNet18, NormKind.Batch);
        TorchvisionResNet.LoadInto(rgb.Encoder, EncoderKind.ResNet18, file);
        TorchvisionResNet.LoadInto(other.Encoder, EncoderKind.ResNet18, file);
        rgb.eval();
        other.eval();
        using var noGrad = no_grad();
        using var generator = new Generator(0);
        generator.manual_seed(3);
        using var gray = rand(new long[] { 2, 1, 64, 80 }, generator: generator);
        var (_, expected) = rgb.Encoder.forward(gray.expand(2, 3, 64, 80));
        var (_, actual) = other.Encoder.forward(gray.expand(2, channels, 64, 80));
        double error = (actual - expected).abs().max().item<float>(), scale = expected.abs().max().item<float>();
        output.WriteLine($"{channels} channels: max |difference| {error:E2} of values up to {scale:F1}");
        Assert.True(scale > 0.1, "the features are too small to compare");
        Assert.True(error <= 1e-5 * Math.Max(1, scale), $"features differ by {error}");
    }

    [Fact]
    public void A_state_dict_of_another_depth_is_refused_naming_keys()
    {
        if (Reference.Value is not { } folder)
        {
            output.WriteLine("skipped: no torchvision reference files");
            return;
        }
        using var model = new DeepLabV3Plus(3, 2, EncoderKind.ResNet18, NormKind.Batch);
        string resnet50 = Path.Combine(folder, "resnet50.pt");
        var error = Assert.Throws<SegSharpException>(() => TorchvisionResNet.LoadInto(model.Encoder, EncoderKind.ResNet18, resnet50));
        Assert.Contains("is not a torchvision resnet18 state dict: ", error.Message);
        Assert.Contains("unexpected (", error.Message);
        Assert.Contains("mis-shaped (layer1.0.conv1.weight (file [64, 64, 1, 1], encoder [64, 64, 3, 3])", error.Message);
    }

    [Fact]
    public void The_key_map_places_every_encoder_tensor_exactly_once()
    {
        foreach (var kind in Enum.GetValues<EncoderKind>().Where(k => k != EncoderKind.None))
        {
            using var encoder = new ResNetEncoder(kind, 3, NormKind.Batch);
            var map = TorchvisionResNet.KeyMap(kind);
            Assert.Equal(encoder.state_dict().Keys.Order(StringComparer.Ordinal), map.Values.Order(StringComparer.Ordinal));
            Assert.Equal("_stem.0.weight", map["conv1.weight"]);
        }
        Assert.Equal("_layer4.0._shortcut.1.running_var", TorchvisionResNet.KeyMap(EncoderKind.ResNet50)["layer4.0.downsample.1.running_var"]);
        Assert.Equal("_layer2.1._body.4.weight", TorchvisionResNet.KeyMap(EncoderKind.ResNet18)["layer2.1.bn2.weight"]);
    }

    private static string WriteReference()
    {
        string folder = TestPaths.TempFolder("torchvision");
        ChildProcess.Run(Prerequisite.Python, folder, null, Path.Combine(TestPaths.RepositoryRoot, "scripts", "torchvision_reference.py"), folder);
        return folder;
    }
}
