using SegSharp.Inference;
using SegSharp.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace SegSharp.Tests.Inference;

public class TiledPredictorTests
{
    /// <summary>A per-pixel model (1x1 convs): each output pixel depends only on its input pixel, so tiling must not change it.</summary>
    private sealed class PointwiseModel : SegmentationModel
    {
#pragma warning disable CA2213 // registered submodule: disposed by Module.Dispose (see ModelTests)
        private readonly nn.Module<Tensor, Tensor> _layers;
#pragma warning restore CA2213

        public PointwiseModel() : base(nameof(PointwiseModel), 2, 3, 1, true)
        {
            random.manual_seed(1);
            _layers = nn.Sequential(nn.Conv2d(2, 8, 1), nn.Tanh(), nn.Conv2d(8, 3, 1));
            RegisterComponents();
        }

        protected override Tensor ForwardAligned(Tensor input) => _layers.forward(input);
    }

    [Fact]
    public void An_image_that_fits_one_tile_gives_exactly_the_whole_image_result()
    {
        using var model = ModelFactory.Create(new SegSharp.Configuration.ModelConfig
        {
            Kind = SegSharp.Configuration.ModelKind.UNet, Depth = 2, Width = 4, Norm = SegSharp.Configuration.NormKind.Batch,
            Upsampling = SegSharp.Configuration.UpsamplingKind.Transpose, Encoder = SegSharp.Configuration.EncoderKind.None,
                InputPolicy = SegSharp.Configuration.InputPolicy.Pad,
        }, 1, 2, 0);
        using var image = rand(1, 1, 40, 36);
        using var whole = new TiledPredictor(model, 0).Probabilities(image);
        using var tiled = new TiledPredictor(model, 64, 0.5).Probabilities(image);
        Assert.True(whole.equal(tiled).all().item<bool>());
    }

    [Fact]
    public void Blended_tiles_of_a_pointwise_model_equal_the_whole_image()
    {
        using var model = new PointwiseModel();
        using var image = rand(2, 2, 50, 77);
        using var whole = new TiledPredictor(model, 0).Probabilities(image);
        using var tiled = new TiledPredictor(model, 16, 0.25).Probabilities(image);
        Assert.True(whole.allclose(tiled, rtol: 1e-5, atol: 1e-6));
        using var sums = tiled.sum(1);
        Assert.True(sums.allclose(ones_like(sums), atol: 1e-5));
    }

    [Fact]
    public void Labels_computed_band_by_band_equal_the_whole_image_s()
    {
        using var model = new PointwiseModel();
        using var image = rand(2, 2, 70, 45);
        using var whole = new TiledPredictor(model, 0).Probabilities(image);
        using var expected = whole.argmax(1).to(ScalarType.Int32);
        // 16-pixel tiles overlapping by a quarter: rows of tiles start 12 apart, so each band finishes 12 rows (the last, 16).
        using var banded = new TiledPredictor(model, 16, 0.25).Labels(image);
        Assert.Equal(new long[] { 2, 70, 45 }, banded.shape);
        Assert.True(banded.equal(expected).all().item<bool>());
    }

    [Fact]
    public void Tile_origins_cover_the_image_with_the_last_tile_flush()
    {
        using var model = new PointwiseModel();
        var predictor = new TiledPredictor(model, 16, 0.25);
        Assert.Equal(new long[] { 0, 12, 24, 34 }, predictor.Starts(50, 16));
        Assert.Equal(new long[] { 0 }, predictor.Starts(16, 16));
    }

    [Fact]
    public void Flip_averaging_of_a_pointwise_model_changes_nothing()
    {
        using var model = new PointwiseModel();
        using var image = rand(1, 2, 9, 11);
        using var plain = new TiledPredictor(model).Probabilities(image);
        using var tta = new TiledPredictor(model, flipTta: true).Probabilities(image);
        Assert.True(plain.allclose(tta, rtol: 1e-5, atol: 1e-6));
    }
}
