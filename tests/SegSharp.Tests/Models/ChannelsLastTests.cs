using Microsoft.ML.OnnxRuntime;
using SegSharp.Configuration;
using SegSharp.Models;
using SegSharp.Runtime;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace SegSharp.Tests.Models;

/// <summary>
/// Channels-last inference (<see cref="ChannelsLast"/>) changes strides, never results: every architecture gives its plain
/// layout's logits, ONNX export still writes the logical weights, and the layout can be undone exactly. The 1x1 case
/// is the one oneDNN's AVX-512 kernels get wrong on some CPUs, so it is checked against float64 whatever the machine.
/// </summary>
public class ChannelsLastTests(ITestOutputHelper output)
{
    public static TheoryData<string[]> Architectures => new(new[]
    {
        new[] { "model.name=unet", "model.norm=batch", "model.upsampling=transpose" },
        new[] { "model.name=unet", "model.norm=group", "model.upsampling=bilinear" },
        new[] { "model.name=deeplabv3plus", "model.encoder=resnet50", "model.norm=batch" },
        new[] { "model.name=unet", "model.encoder=mlnet-resnet18", "model.norm=batch" },
        new[] { "model.name=fpn", "model.encoder=resnet34", "model.norm=batch" },
        new[] { "model.name=linknet", "model.encoder=resnet18", "model.norm=none" },
    });

    [Theory]
    [MemberData(nameof(Architectures))]
    [Trait("Tier", "Reference")]
    public void Every_architecture_gives_its_plain_logits_and_exports_its_logical_weights(string[] settings)
    {
        using var model = OnnxExportTests.Build(settings.Append("model.width=16").Append("model.depth=3").ToArray(), classes: 5);
        using var images = OnnxExportTests.Random(1, 3, 256, 320, seed: 7);
        using var plain = OnnxExportTests.Forward(model, images);

        string layout = ChannelsLast.Apply(model, MemoryFormat.ChannelsLast);
        output.WriteLine($"{string.Join(' ', settings)}: {layout}");
        Assert.StartsWith("channels_last", layout);
        var spatial = model.modules().OfType<Convolution>().First(c => !c.IsTransposed && !c.IsPointwise);
        if (!ChannelsLastKernelCheck.Current.SpatialWrong) Assert.Equal(1, spatial.Weight.stride(1));
        Assert.StartsWith("channels_last (1x1", layout);
        using var laid = OnnxExportTests.Forward(model, images);
        Assert.True(laid.is_contiguous(), "the model returns plain logits whatever its layout");
        double spread = plain.std().item<float>(), difference = (laid - plain).abs().max().item<float>();
        output.WriteLine($"max |difference| {difference:E2} (logits' std {spread:F3})");
        Assert.True(spread > 0.01 && difference <= 1e-4 * Math.Max(1, spread), $"channels-last logits differ by {difference}");

        // The exported file holds the logical weights: ONNX Runtime gives the plain logits.
        var file = OnnxExport.Build(model, OnnxExportTests.Card(model, settings), "{}");
        using (var session = new InferenceSession(Google.Protobuf.MessageExtensions.ToByteArray(file)))
        using (var fromOnnx = OnnxExportTests.Run(session, images))
            Assert.True((fromOnnx - plain).abs().max().item<float>() <= 1e-4 * Math.Max(1, spread), "the export read channels-last storage as plain");

        // Undone, the model is the plain one again, to the bit.
        Assert.Equal("contiguous", ChannelsLast.Apply(model, MemoryFormat.Contiguous));
        Assert.True(model.parameters().All(p => p.is_contiguous()));
        using var back = OnnxExportTests.Forward(model, images);
        Assert.True(back.equal(plain).all().item<bool>());
    }

    [Fact]
    public void Auto_checks_the_models_own_logits_and_keeps_the_configured_precision()
    {
        using var model = OnnxExportTests.Build(new[] { "model.name=deeplabv3plus", "model.encoder=resnet18", "model.width=16", "model.depth=3" },
            classes: 3);
        model.ComputeType = ScalarType.BFloat16;
        string layout = ChannelsLast.Apply(model, MemoryFormat.Auto);
        output.WriteLine(layout);
        // With AVX-512 kernels this model's channels-last logits match on every CPU measured (a failing self-check would
        // name the difference); with AVX2 kernels auto stays plain, where channels-last measured no faster.
        if (ChannelsLast.Faster) Assert.Matches(@"^channels_last \(1x1(, spatial)?(, transposed)? convolutions plain\)$", layout);
        else Assert.StartsWith("contiguous (auto: channels-last is used with AVX-512 kernels", layout);
        Assert.Equal(ScalarType.BFloat16, model.ComputeType);
        Assert.False(model.training);
    }

    [Theory]
    [InlineData(256, 512, 2, 1)]
    [InlineData(512, 512, 2, 2)]
    [InlineData(256, 512, 1, 2)]
    public void A_pointwise_convolution_with_512_outputs_is_right_in_a_channels_last_model(int inputs, int outputs, int stride, int batch)
    {
        // oneDNN's brgemm 1x1 kernel, reached only in channels-last, is wrong for these shapes with AVX-512 on the
        // virtualised AMD EPYC (off by ~0.5) and crashes with AVX2: a channels-last model keeps 1x1 convolutions plain.
        torch.manual_seed(5);
        using var convolution = Convolution.Plain(inputs, outputs, 1, stride: stride);
        using var input = ChannelsLast.Strided(randn(batch, inputs, 16, 16));
        convolution.SetLayout(channelsLast: true, keepPlain: true); // what ChannelsLast does with every 1x1 convolution
        using var noGrad = no_grad();
        using var actual = convolution.forward(input);
        var parameters = convolution.parameters().ToArray();
        using var expected = nn.functional.conv2d(input.to(ScalarType.Float64), parameters[0].to(ScalarType.Float64), parameters[1].to(ScalarType.Float64),
            new long[] { stride, stride });
        double error = (actual.to(ScalarType.Float64) - expected).abs().max().item<double>() / expected.abs().max().item<double>();
        output.WriteLine($"1x1 {inputs}->{outputs} stride {stride} batch {batch}: relative error {error:E2}");
        Assert.True(error < 1e-5, $"relative error {error}");
    }
}
