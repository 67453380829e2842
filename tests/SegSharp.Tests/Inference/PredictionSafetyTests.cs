using SegSharp.Configuration;
using SegSharp.Inference;

namespace SegSharp.Tests.Inference;

/// <summary>Settings that would run for hours or lose files are refused up front; huge images are tiled, not OOM-killed.</summary>
public class PredictionSafetyTests
{
    [Fact]
    public void Two_inputs_with_one_stem_get_distinct_output_names()
    {
        var names = FolderPredictor.OutputNames(new[] { "/in/a.png", "/in/a.tif", "/in/b.png" });
        Assert.Equal("a.png", names["/in/a.png"]);
        Assert.Equal("a.tif", names["/in/a.tif"]);
        Assert.Equal("b", names["/in/b.png"]);
    }

    [Fact]
    public void A_tile_below_the_model_stride_is_refused_with_the_sizes_to_use()
    {
        var error = Assert.Throws<SegSharpException>(() => Tiling.Check(7, 0.25, "--tile", "--overlap", 16));
        Assert.Equal("--tile 7 is smaller than the model's stride (16); use 0 (whole image) or at least 16 (a multiple of 16, such as 256, needs no padding).",
            error.Message);
        Tiling.Check(0, 0.25, "--tile", "--overlap", 16);
        Tiling.Check(16, 0.25, "--tile", "--overlap", 16);
    }

    [Theory]
    [InlineData(0.95)]
    [InlineData(0.9)]
    [InlineData(-0.1)]
    public void Overlap_that_would_multiply_the_work_is_refused_like_the_config_refuses_it(double overlap)
    {
        var error = Assert.Throws<SegSharpException>(() => Tiling.Check(256, overlap, "--tile", "--overlap"));
        Assert.Contains("expected a fraction of the tile from 0 to 0.8", error.Message);
        Assert.Throws<ConfigException>(() => SegSharpConfig.Load(null, new[] { $"evaluation.tile_overlap={overlap}" }));
    }

    [Fact]
    public void Untiled_images_above_the_pixel_budget_are_tiled_automatically()
    {
        using var model = SegSharp.Models.ModelFactory.Create(SegSharpConfig.Load(null, new[] { "model.depth=2", "model.width=4" }).Model, 3, 2, 0);
        var auto = new TiledPredictor(model);
        Assert.Equal(0, auto.TileFor(512, 512));
        Assert.Equal(0, auto.TileFor(2048, 2048));
        Assert.Equal(TiledPredictor.AutoTileSize, auto.TileFor(6000, 6000));
        Assert.Equal(300, new TiledPredictor(model, tileSize: 300).TileFor(6000, 6000));
        Assert.Equal(0, new TiledPredictor(model, maxWholePixels: 0).TileFor(6000, 6000));
    }
}
