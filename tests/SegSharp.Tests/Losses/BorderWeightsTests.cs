using System.Globalization;
using SegSharp.Losses;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace SegSharp.Tests.Losses;

/// <summary>
/// The U-Net separation weights against an independent computation with scipy.ndimage (label, then one exact
/// distance transform per object over the whole image), and the weighted cross-entropy against its definition.
/// </summary>
public class BorderWeightsTests(ITestOutputHelper output)
{
    private const long Ignore = 255;

    /// <summary>Cells (1) in a membrane (0) image: seeded discs, some touching, some close, one ignored strip.</summary>
    private static long[] Cells(int height, int width, int count, int seed)
    {
        var random = new Random(seed);
        var mask = new long[height * width];
        for (int i = 0; i < count; i++)
        {
            int cy = random.Next(height), cx = random.Next(width), r = 3 + random.Next(7);
            for (int y = Math.Max(0, cy - r); y < Math.Min(height, cy + r + 1); y++)
                for (int x = Math.Max(0, cx - r); x < Math.Min(width, cx + r + 1); x++)
                    if ((y - cy) * (y - cy) + (x - cx) * (x - cx) <= r * r) mask[y * width + x] = 1;
        }
        // Thin membranes: a background line through every 11th row splits discs into touching cells.
        for (int y = 5; y < height; y += 11)
            for (int x = 0; x < width; x++) mask[y * width + x] = 0;
        for (int x = 0; x < width; x++) mask[(height - 1) * width + x] = Ignore;
        return mask;
    }

    [Theory]
    [InlineData(40, 48, 10, 10.0, 5.0)]
    [InlineData(150, 130, 40, 10.0, 5.0)]
    [InlineData(90, 70, 25, 3.0, 2.0)]
    public void Weights_equal_scipy_label_and_distance_transform(int height, int width, int cells, double w0, double sigma)
    {
        Prerequisite.PythonModules("python3-scipy", "scipy.ndimage");
        var mask = Cells(height, width, cells, seed: height);
        var ours = BorderWeights.Compute(mask, height, width, 1, Ignore, w0, sigma);
        var folder = Directory.CreateTempSubdirectory("segsharp-border-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(folder, "mask.txt"), string.Join('\n', Enumerable.Range(0, height)
                .Select(y => string.Join(' ', mask.Skip(y * width).Take(width)))));
            string script = $$"""
                import numpy as np
                from scipy import ndimage
                m = np.loadtxt('mask.txt', dtype=np.int64).reshape({{height}}, {{width}})
                labels, n = ndimage.label(m == 1)
                d = np.stack([ndimage.distance_transform_edt(labels != i) for i in range(1, n + 1)])
                d.sort(axis=0)
                w = {{w0.ToString(CultureInfo.InvariantCulture)}} * np.exp(-(d[0] + d[1]) ** 2 / (2 * {{sigma.ToString(CultureInfo.InvariantCulture)}} ** 2))
                w[(labels > 0) | (m == 255)] = 0
                np.savetxt('weights.txt', w.ravel(), fmt='%.9g')
                print(n)
                """;
            string objects = ChildProcess.Run(Prerequisite.Python, folder, null, "-c", script).Trim();
            var reference = File.ReadAllLines(Path.Combine(folder, "weights.txt")).Select(l => double.Parse(l, CultureInfo.InvariantCulture)).ToArray();
            double maxError = ours.Zip(reference, (a, b) => Math.Abs(a - b)).Max();
            int large = reference.Count(v => v > w0 / 10);
            output.WriteLine($"{height}x{width}: {objects} objects, {large} pixels above w0/10, max |ours - scipy| {maxError:E2}");
            Assert.True(large > 20, "the mask has too few gaps between objects to test anything");
            Assert.True(maxError < w0 * 2e-6, $"max difference {maxError}");
        }
        finally
        {
            Directory.Delete(folder, true);
        }
    }

    [Fact]
    public void One_object_or_none_gives_no_weights()
    {
        var mask = new long[20 * 20];
        Assert.All(BorderWeights.Compute(mask, 20, 20, 1, Ignore, 10, 5), v => Assert.Equal(0f, v));
        for (int i = 0; i < 50; i++) mask[i] = 1;
        Assert.All(BorderWeights.Compute(mask, 20, 20, 1, Ignore, 10, 5), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void Two_objects_one_gap_apart_weigh_the_gap_by_w0_times_exp_of_minus_one_over_two_sigma_squared()
    {
        // Columns 0-3 and 5-8 are objects; column 4 is a one-pixel gap: d1 = d2 = 1 there.
        var mask = new long[6 * 9];
        for (int y = 0; y < 6; y++)
            for (int x = 0; x < 9; x++) mask[y * 9 + x] = x == 4 ? 0 : 1;
        var w = BorderWeights.Compute(mask, 6, 9, 1, Ignore, 10, 2);
        for (int y = 0; y < 6; y++) Assert.Equal(10 * Math.Exp(-4.0 / 8), w[y * 9 + 4], 5);
        Assert.Equal(0f, w[3]);
    }

    [Fact]
    public void Border_weighted_cross_entropy_is_the_weighted_mean_of_pixel_losses_and_reduces_to_plain_with_w0_zero()
    {
        using var scope = NewDisposeScope();
        const int h = 12, w = 16;
        var mask = Cells(h, w, 6, seed: 3);
        var target = tensor(mask, new long[] { 1, h, w });
        torch.manual_seed(5);
        var logits = randn(1, 2, h, w).requires_grad_(true);
        var classWeights = new[] { 2.0, 0.5 };

        var plain = new CrossEntropyLoss(Ignore, classWeights).Compute(logits, target).item<float>();
        var zero = new CrossEntropyLoss(Ignore, classWeights, borderWeight: 0).Compute(logits, target).item<float>();
        Assert.Equal(plain, zero);

        var loss = new CrossEntropyLoss(Ignore, classWeights, borderWeight: 10, borderSigma: 2).Compute(logits, target);
        var border = BorderWeights.Compute(mask, h, w, 1, Ignore, 10, 2);
        var values = logits.detach().data<float>().ToArray();
        double numerator = 0, denominator = 0;
        for (int p = 0; p < h * w; p++)
        {
            if (mask[p] == Ignore) continue;
            double l0 = values[p], l1 = values[h * w + p];
            double logSum = Math.Log(Math.Exp(l0) + Math.Exp(l1));
            double ce = logSum - (mask[p] == 0 ? l0 : l1);
            double omega = classWeights[mask[p]] + border[p];
            numerator += omega * ce;
            denominator += omega;
        }
        Assert.True(border.Count(v => v > 1) > 3, "no gap pixels in the test mask");
        Assert.Equal(numerator / denominator, loss.item<float>(), 5);
        loss.backward();
        Assert.True(logits.grad!.abs().sum().item<float>() > 0);
    }
}
