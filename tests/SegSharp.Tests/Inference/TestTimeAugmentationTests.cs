using SegSharp.Configuration;
using System.Globalization;
using SegSharp.Inference;
using SegSharp.Models;
using static TorchSharp.torch;

namespace SegSharp.Tests.Inference;

/// <summary>
/// Multi-scale test-time augmentation and Gaussian tile blending: the averaged probabilities against Debian's PyTorch
/// (F.interpolate, bilinear, align_corners=False), the blending window against SciPy's Gaussian window, and the option's
/// bounds and work factor.
/// </summary>
public class TestTimeAugmentationTests
{
    private const int Classes = 3, Height = 12, Width = 20;

    /// <summary>Logits equal to the input: what multi-scale TTA does to them is the resampling alone.</summary>
    private sealed class IdentityModel : SegmentationModel
    {
        public IdentityModel() : base(nameof(IdentityModel), TestTimeAugmentationTests.Classes, TestTimeAugmentationTests.Classes, 1, true) =>
            RegisterComponents();

        protected override Tensor ForwardAligned(Tensor input) => input.clone();
    }

    private static float Value(int c, int y, int x) => (float)(3 * Math.Sin(c * 1.3 + y * 0.7 + x * 0.37));

    [Fact]
    public void Multi_scale_probabilities_equal_pytorch_s_resize_softmax_resize_average_through_both_engines_paths()
    {
        Prerequisite.PythonModules("python3-torch", "torch");
        string script = $$"""
            import torch, torch.nn.functional as F
            C, H, W = {{Classes}}, {{Height}}, {{Width}}
            x = torch.tensor([[[3 * __import__('math').sin(c * 1.3 + y * 0.7 + i * 0.37) for i in range(W)] for y in range(H)] for c in range(C)],
                             dtype=torch.float64)[None].float()
            total = 0
            for s in (0.75, 1.0, 1.25):
                h, w = round(H * s), round(W * s)
                small = x if s == 1.0 else F.interpolate(x, size=(h, w), mode='bilinear', align_corners=False)
                p = small.softmax(1)
                total = total + (p if s == 1.0 else F.interpolate(p, size=(H, W), mode='bilinear', align_corners=False))
            print(' '.join(repr(v) for v in (total / 3).flatten().tolist()))
            """;
        var expected = ChildProcess.Run(Prerequisite.Python, Path.GetTempPath(), null, "-c", script).Trim().Split(' ')
            .Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();

        var image = new float[Classes * Height * Width];
        for (int c = 0; c < Classes; c++)
            for (int y = 0; y < Height; y++)
                for (int x = 0; x < Width; x++) image[(c * Height + y) * Width + x] = Value(c, y, x);
        double[] scales = { 0.75, 1, 1.25 };
        using var model = new IdentityModel();
        // Tiles of 8 and flips on top: an identity model's tiles blend back to the whole image and flips change nothing.
        var predictors = new[] { new TiledPredictor(model, 0) { Scales = scales }, new TiledPredictor(model, 8, 0.25, flipTta: true) { Scales = scales } };
        foreach (var predictor in predictors)
        {
            using var input = tensor(image, new long[] { 1, Classes, Height, Width });
            using var probabilities = predictor.Probabilities(input);
            var actual = probabilities.data<float>().ToArray();
            Assert.Equal(expected.Length, actual.Length);
            for (int i = 0; i < actual.Length; i++) Assert.True(Math.Abs(actual[i] - expected[i]) < 2e-6, $"pixel {i}: {actual[i]} vs PyTorch {expected[i]}");
        }
    }

    [Fact]
    public void The_tile_blending_window_is_scipy_s_gaussian_with_sigma_an_eighth_of_the_tile()
    {
        // scipy.signal.windows.gaussian(8, std=1.0) and gaussian(5, std=0.625), computed by SciPy 1.10.
        double[] eight = { 0.00218749, 0.04393693, 0.32465247, 0.8824969, 0.8824969, 0.32465247, 0.04393693, 0.00218749 };
        double[] five = { 0.00597602, 0.2780373, 1.0, 0.2780373, 0.00597602 };
        foreach (var (size, expected) in new[] { (8, eight), (5, five) })
        {
            var window = TileLayout.Gaussian(size);
            for (int i = 0; i < size; i++) Assert.Equal(expected[i], window[i], 6);
        }
    }

    [Fact]
    public void Scaled_sides_round_to_the_stride_and_the_work_factor_counts_pixels()
    {
        Assert.Equal(500, TestTimeAugmentation.ScaledSize(500, 1, 16));
        Assert.Equal(368, TestTimeAugmentation.ScaledSize(500, 0.75, 16));
        Assert.Equal(624, TestTimeAugmentation.ScaledSize(500, 1.25, 16));
        Assert.Equal(16, TestTimeAugmentation.ScaledSize(20, 0.25, 16));
        Assert.Equal(9, TestTimeAugmentation.Passes(true, new[] { 0.75, 1, 1.25 }));
        Assert.Equal(9.375, TestTimeAugmentation.WorkFactor(true, new[] { 0.75, 1, 1.25 }));
        Assert.Equal("none", TestTimeAugmentation.Describe(false, TestTimeAugmentation.NoScaling));
        Assert.Equal("flips x3 (identity, horizontal, vertical), scales 0.75/1/1.25: 9 passes, 9.4x the work of one pass",
            TestTimeAugmentation.Describe(true, new[] { 0.75, 1, 1.25 }));
    }

    [Theory]
    [InlineData("0.75,x", "--scales '0.75,x': 'x' is not a number; give scales separated by commas, such as 0.75,1,1.25.")]
    [InlineData("1,8", "--scales scale 8 is not valid; each scale must be from 0.25 to 4, such as 0.75,1,1.25.")]
    [InlineData("1,1", "--scales '1,1' repeats a scale; give each scale once, such as 0.75,1,1.25.")]
    public void A_bad_scale_list_is_refused_in_one_line(string text, string message) =>
        Assert.Equal(message, Assert.Throws<SegSharpException>(() => TestTimeAugmentation.Parse(text, "--scales")).Message);
}
