using SegSharp.Configuration;
using SegSharp.Data;
using SegSharp.Runtime;
using SegSharp.Transforms;

namespace SegSharp.Tests.Transforms;

public class ElasticDeformTests
{
    private const int H = 40, W = 48;

    /// <summary>Labels constant on 8x8 blocks (0..3), and an image that encodes each pixel's label as its value.</summary>
    private static Sample Blocks()
    {
        var mask = new int[H * W];
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) mask[y * W + x] = (y / 8 * 3 + x / 8) % 4;
        return new Sample("blocks", mask.Select(v => (float)v).ToArray(), mask, 1, H, W, 255);
    }

    [Fact]
    public void Zero_displacement_leaves_image_and_mask_unchanged()
    {
        var s = Blocks();
        var result = new ElasticDeform(3, 0, 1.0).Apply(s, new SeededRandom(1));
        Assert.Equal(s.Image, result.Image);
        Assert.Equal(s.Mask, result.Mask);
    }

    [Fact]
    public void Field_passes_through_every_node_and_a_constant_grid_gives_a_constant_field()
    {
        var nodes = new[] { 1.0, -2.0, 0.5, 3.0, 0.0, -1.5, 2.5, 4.0, -3.0 };
        var field = ElasticDeform.Field(nodes, 3, 9, 9);
        for (int r = 0; r < 3; r++)
            for (int c = 0; c < 3; c++) Assert.Equal(nodes[r * 3 + c], field[r * 4 * 9 + c * 4], 5);
        // Between nodes the cubic overshoots neither wildly: values stay within the nodes' range widened by a third.
        Assert.InRange(field.Max(), 4.0, 4.0 + 7.0 / 3);
        var constant = ElasticDeform.Field(Enumerable.Repeat(2.0, 16).ToArray(), 4, 13, 17);
        Assert.All(constant, v => Assert.Equal(2.0, v, 5));
    }

    [Fact]
    public void An_integer_shift_moves_image_and_mask_by_whole_pixels()
    {
        var s = Blocks();
        var dy = Enumerable.Repeat(3f, H * W).ToArray();
        var dx = Enumerable.Repeat(-2f, H * W).ToArray();
        var shifted = ElasticDeform.Warp(s, dy, dx);
        for (int y = 0; y < H - 3; y++)
        {
            for (int x = 2; x < W; x++)
            {
                Assert.Equal(s.Mask[(y + 3) * W + x - 2], shifted.Mask[y * W + x]);
                Assert.Equal(s.Image[(y + 3) * W + x - 2], shifted.Image[y * W + x]);
            }
        }
        // Past the edges the input is mirrored about the border pixels: row H-1+k reads row H-1-k.
        Assert.Equal(s.Mask[(H - 2) * W + 5], shifted.Mask[(H - 3) * W + 7]);
    }

    [Theory]
    [InlineData(-1.0, 5, 1.0)]
    [InlineData(5.0, 5, 3.0)]
    [InlineData(9.0, 5, 1.0)]
    [InlineData(2.5, 5, 2.5)]
    [InlineData(-7.25, 1, 0.0)]
    public void Mirror_reflects_about_the_first_and_last_pixel_centres(double v, int n, double expected) =>
        Assert.Equal(expected, ElasticDeform.Mirror(v, n), 12);

    [Fact]
    public void Random_deformation_moves_pixels_and_keeps_mask_and_image_together()
    {
        var s = Blocks();
        var result = new ElasticDeform(3, 4, 1.0).Apply(s, new SeededRandom(7));
        int moved = 0, pure = 0;
        for (int p = 0; p < H * W; p++)
        {
            if (result.Mask[p] != s.Mask[p]) moved++;
            Assert.InRange(result.Mask[p], 0, 3);
            float v = result.Image[p];
            if (v != MathF.Round(v)) continue;
            pure++;
            // Where the bilinear blend saw one label only, the nearest-neighbour mask has that label.
            Assert.Equal((int)v, result.Mask[p]);
        }
        Assert.True(moved > H * W / 20, $"only {moved} mask pixels changed");
        Assert.True(pure > H * W / 2, $"only {pure} pixels lie inside one block");
    }

    [Fact]
    public void Same_seed_same_deformation_other_seed_another()
    {
        var t = new ElasticDeform(3, 10, 1.0);
        var a = t.Apply(Blocks(), new SeededRandom(3));
        Assert.Equal(a.Mask, t.Apply(Blocks(), new SeededRandom(3)).Mask);
        Assert.NotEqual(a.Mask, t.Apply(Blocks(), new SeededRandom(4)).Mask);
        Assert.Equal(Blocks().Mask, new ElasticDeform(3, 10, 0.0).Apply(Blocks(), new SeededRandom(3)).Mask);
    }

    [Fact]
    public void Config_reads_grid_sigma_and_p_and_refuses_a_grid_of_one()
    {
        string yaml = "transforms:\n  train:\n    - { name: elastic, grid: 4, sigma: 8, p: 0.7 }\n";
        var config = SegSharpConfig.Parse(yaml, "test.yaml", Directory.GetCurrentDirectory());
        var step = Assert.IsType<ElasticDeform>(TransformPipeline.Create(config.TrainTransforms).Steps.Single());
        Assert.Equal(new ElasticDeform(4, 8, 0.7), step);
        var error = Assert.Throws<ConfigException>(() =>
            SegSharpConfig.Parse("transforms:\n  train:\n    - { name: elastic, grid: 1 }\n", "test.yaml", Directory.GetCurrentDirectory()));
        Assert.Contains("grid", error.Message);
    }
}
