using SegSharp.Configuration;
using SegSharp.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace SegSharp.Tests.Models;

public class ConvolutionTests
{
    [Fact]
    public void Float32_convolution_matches_TorchSharp_Conv2d_in_initial_weights_and_output()
    {
        torch.manual_seed(7);
        using var ours = Convolution.Plain(3, 5, 3, stride: 2, padding: 2, dilation: 2);
        torch.manual_seed(7);
        using var theirs = nn.Conv2d(3, 5, 3, stride: 2, padding: 2, dilation: 2);
        using var input = rand(2, 3, 11, 9);

        Assert.Equal(new[] { "weight", "bias" }, ours.named_parameters().Select(p => p.name).ToArray());
        Assert.True(ours.parameters().First().equal(theirs.weight).all().item<bool>());
        using var expected = theirs.forward(input);
        using var actual = ours.forward(input);
        Assert.True(actual.equal(expected).all().item<bool>());
    }

    [Fact]
    public void Transposed_convolution_matches_TorchSharp_ConvTranspose2d()
    {
        torch.manual_seed(3);
        using var ours = Convolution.Transposed(4, 2, 2, stride: 2);
        torch.manual_seed(3);
        using var theirs = nn.ConvTranspose2d(4, 2, 2, stride: 2);
        using var input = rand(1, 4, 5, 6);
        using var expected = theirs.forward(input);
        using var actual = ours.forward(input);
        Assert.Equal(new long[] { 1, 2, 10, 12 }, actual.shape);
        Assert.True(actual.equal(expected).all().item<bool>());
    }

    [Fact]
    public void Bfloat16_compute_equals_a_float32_convolution_of_bfloat16_rounded_operands_and_returns_float32()
    {
        torch.manual_seed(11);
        using var convolution = Convolution.Plain(8, 4, 3, padding: 1);
        using var input = randn(2, 8, 12, 12);
        using var exact = convolution.forward(input);
        convolution.ComputeType = ScalarType.BFloat16;
        using var mixed = convolution.forward(input);

        // Independent model of what bfloat16 compute means: operands rounded to bfloat16, float32 accumulation,
        // the result rounded to bfloat16 once.
        var parameters = convolution.parameters().ToArray();
        using var rounded = nn.functional.conv2d(Round(input), Round(parameters[0]), Round(parameters[1]), padding: new long[] { 1, 1 });
        using var expected = Round(rounded);

        Assert.Equal(ScalarType.Float32, mixed.dtype);
        double scale = exact.abs().max().item<float>();
        Assert.True((mixed - expected).abs().max().item<float>() <= 0.01 * scale);
        Assert.True((mixed - exact).abs().max().item<float>() > 1e-5 * scale, "bfloat16 compute gave float32-exact results: no cast happened");
    }

    [Fact]
    public void Bfloat16_compute_keeps_float32_master_gradients_close_to_float32_ones()
    {
        torch.manual_seed(5);
        using var convolution = Convolution.Plain(4, 4, 3, padding: 1);
        using var input = randn(2, 4, 8, 8);
        var weight = convolution.parameters().First();

        convolution.forward(input).square().sum().backward();
        using var exact = weight.grad!.clone();
        weight.grad!.zero_();
        convolution.ComputeType = ScalarType.BFloat16;
        convolution.forward(input).square().sum().backward();

        Assert.Equal(ScalarType.Float32, weight.dtype);
        Assert.Equal(ScalarType.Float32, weight.grad!.dtype);
        double relative = (weight.grad - exact).norm().item<float>() / exact.norm().item<float>();
        Assert.InRange(relative, 1e-6, 0.02);
    }

    [Fact]
    public void Model_compute_type_reaches_every_convolution_and_logits_stay_float32()
    {
        var config = new ModelConfig
        {
            Kind = ModelKind.UNet, Depth = 2, Width = 8, Norm = NormKind.Batch, Upsampling = UpsamplingKind.Transpose, Encoder = EncoderKind.None,
                InputPolicy = InputPolicy.Pad,
        };
        using var model = ModelFactory.Create(config, 1, 3, 1);
        model.eval();
        using var _ = no_grad();
        using var input = rand(1, 1, 32, 32);
        using var exact = model.forward(input);
        model.ComputeType = ScalarType.BFloat16;

        Assert.All(model.modules().OfType<Convolution>(), c => Assert.Equal(ScalarType.BFloat16, c.ComputeType));
        using var mixed = model.forward(input);
        Assert.Equal(ScalarType.Float32, mixed.dtype);
        Assert.True((mixed - exact).abs().max().item<float>() < 0.05 * exact.abs().max().item<float>());
        model.ComputeType = null;
        using var back = model.forward(input);
        Assert.True(back.equal(exact).all().item<bool>());
    }

    [Theory]
    [InlineData(16, 8, 2)]
    [InlineData(4, 4, 2)]
    [InlineData(24, 24, 8)]
    [InlineData(16, 32, 2)]
    public void Float32_gradients_match_a_float64_reference_at_any_channel_count(int inputs, int outputs, int batch)
    {
        // Channel counts that are not multiples of 16 hit a kernel defect on some CPUs (ConvolutionKernelCheck);
        // whatever the machine, our convolution's input and weight gradients must equal float64 ones.
        torch.manual_seed(13);
        using var convolution = Convolution.Plain(inputs, outputs, 3, padding: 1);
        using var input = randn(batch, inputs, 32, 32).requires_grad_(true);
        using var outputGradient = randn(batch, outputs, 32, 32);
        convolution.forward(input).mul(outputGradient).sum().backward();

        var parameters = convolution.parameters().ToArray();
        using var input64 = input.detach().to(ScalarType.Float64).requires_grad_(true);
        using var weight64 = parameters[0].detach().to(ScalarType.Float64).requires_grad_(true);
        using var bias64 = parameters[1].detach().to(ScalarType.Float64);
        nn.functional.conv2d(input64, weight64, bias64, padding: new long[] { 1, 1 }).mul(outputGradient.to(ScalarType.Float64)).sum().backward();

        Assert.True(Relative(input.grad!, input64.grad!) < 1e-4, $"input gradient off by {Relative(input.grad!, input64.grad!)}");
        Assert.True(Relative(parameters[0].grad!, weight64.grad!) < 1e-4, $"weight gradient off by {Relative(parameters[0].grad!, weight64.grad!)}");
        Assert.Equal(new long[] { outputs, inputs, 3, 3 }, parameters[0].grad!.shape);
    }

    [Theory]
    [InlineData(512, 1024, 2)]
    [InlineData(1024, 2048, 2)]
    [InlineData(256, 512, 3)]
    public void A_strided_pointwise_convolution_trains_like_a_float64_reference(int inputs, int outputs, int stride)
    {
        // ResNet-50's shortcuts: oneDNN's strided 1x1 backward-data kernel kills the process with SIGFPE on some CPUs
        // (Convolution.SubsamplesFirst); the subsampled stride-1 convolution must give the same output and gradients.
        torch.manual_seed(19);
        using var convolution = Convolution.Plain(inputs, outputs, 1, stride: stride, bias: false);
        using var input = randn(2, inputs, 9, 10).requires_grad_(true);
        using var output = convolution.forward(input);
        using var outputGradient = randn(output.shape);
        output.mul(outputGradient).sum().backward();

        var weight = convolution.parameters().Single();
        using var input64 = input.detach().to(ScalarType.Float64).requires_grad_(true);
        using var weight64 = weight.detach().to(ScalarType.Float64).requires_grad_(true);
        using var expected = nn.functional.conv2d(input64, weight64, null, new long[] { stride, stride });
        expected.mul(outputGradient.to(ScalarType.Float64)).sum().backward();

        Assert.Equal(expected.shape, output.shape);
        Assert.True(Relative(output, expected) < 1e-5, $"output off by {Relative(output, expected)}");
        Assert.True(Relative(input.grad!, input64.grad!) < 1e-5, $"input gradient off by {Relative(input.grad!, input64.grad!)}");
        Assert.True(Relative(weight.grad!, weight64.grad!) < 1e-4, $"weight gradient off by {Relative(weight.grad!, weight64.grad!)}");
    }

    [Fact]
    public void Bfloat16_output_is_right_at_a_channel_count_that_is_not_a_multiple_of_16()
    {
        torch.manual_seed(17);
        using var convolution = Convolution.Plain(16, 8, 3, padding: 1);
        convolution.ComputeType = ScalarType.BFloat16;
        using var input = randn(2, 16, 32, 32);
        using var _ = no_grad();
        using var actual = convolution.forward(input);
        var parameters = convolution.parameters().ToArray();
        using var expected = nn.functional.conv2d(Round(input).to(ScalarType.Float64), Round(parameters[0]).to(ScalarType.Float64),
            Round(parameters[1]).to(ScalarType.Float64), padding: new long[] { 1, 1 });
        Assert.Equal(new long[] { 2, 8, 32, 32 }, actual.shape);
        Assert.True(Relative(actual, expected) < 0.02, $"bfloat16 output off by {Relative(actual, expected)}");
    }

    private static double Relative(Tensor actual, Tensor expected) =>
        (actual.to(ScalarType.Float64) - expected.to(ScalarType.Float64)).abs().max().item<double>() / expected.abs().max().item<double>();

    private static Tensor Round(Tensor tensor) => tensor.detach().to(ScalarType.BFloat16).to(ScalarType.Float32);
}
