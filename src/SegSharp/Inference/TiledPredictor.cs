using SegSharp.Configuration;
using SegSharp.Models;
using static TorchSharp.torch;

namespace SegSharp.Inference;

/// <summary>
/// Class probabilities for images of any size. An image no larger than one tile goes through the model whole; with
/// tiling off (tile 0) so does any image up to <see cref="MaxWholePixels"/>, and a larger one is tiled at
/// <see cref="AutoTileSize"/> instead of exhausting memory (a whole 6000x6000 image needs over 8 GB). Tiled images
/// are cut into tile x tile windows overlapping by <c>overlap</c>; each window's probabilities (softmax, or sigmoids for
/// multilabel models) are weighted by a Gaussian that is highest at its centre and stays positive at its edges
/// (<see cref="TileLayout.Gaussian"/>), and the weighted sum is divided by the summed weights, so seams vanish and memory per
/// step is one tile. Optional test-time augmentation averages probabilities over identity, horizontal and vertical flips,
/// and over <see cref="Scales"/> (<see cref="TestTimeAugmentation"/>).
/// </summary>
public sealed class TiledPredictor
{
    private readonly SegmentationModel _model;

    /// <summary>2048 x 2048: a whole-image forward pass of the reference U-Net at this size stays near 1.5 GB.</summary>
    public const long DefaultMaxWholePixels = 2048L * 2048;

    /// <summary>The tile edge used when an untiled image is too large to go through whole.</summary>
    public const int AutoTileSize = 1024;

    /// <param name="decision">How logits become probabilities (softmax unless the model is multilabel).</param>
    public TiledPredictor(SegmentationModel model, int tileSize = 0, double overlap = 0.25, bool flipTta = false, long maxWholePixels = DefaultMaxWholePixels,
        ClassDecision? decision = null)
    {
        _model = model;
        Decision = decision ?? ClassDecision.Multiclass;
        TileSize = tileSize;
        Overlap = overlap;
        FlipTta = flipTta;
        MaxWholePixels = maxWholePixels;
    }

    /// <summary>Tile edge in pixels; 0 = whole images (up to <see cref="MaxWholePixels"/>).</summary>
    public int TileSize { get; }

    /// <summary>With tiling off, larger images are tiled at <see cref="AutoTileSize"/> anyway; 0 = no limit.</summary>
    public long MaxWholePixels { get; }
    public double Overlap { get; }
    public bool FlipTta { get; }

    public ClassDecision Decision { get; }

    /// <summary>Test-time scales whose probabilities are averaged (<see cref="TestTimeAugmentation"/>); 1 alone = none.</summary>
    public IReadOnlyList<double> Scales
    {
        get => _scales;
        init => _scales = TestTimeAugmentation.Check(value, "scales");
    }

    private readonly IReadOnlyList<double> _scales = TestTimeAugmentation.NoScaling;

    /// <summary>
    /// Logits [N, classes, H, W] of the averaged probabilities for images [N, C, H, W] (<see cref="ClassDecision.Logits"/>):
    /// usable wherever a model's logits are.
    /// </summary>
    public Tensor Logits(Tensor images)
    {
        using var guard = Runtime.NativeScalarGuard.Enter();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        _model.eval();
        return Decision.Logits(Probabilities(images)).MoveToOuterDisposeScope();
    }

    /// <summary>Probabilities [N, classes, H, W].</summary>
    public Tensor Probabilities(Tensor images)
    {
        using var guard = Runtime.NativeScalarGuard.Enter();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        _model.eval();
        int height = (int)images.shape[2], width = (int)images.shape[3];
        Tensor? sum = null;
        foreach (double scale in Scales)
        {
            int h = TestTimeAugmentation.ScaledSize(height, scale, _model.Stride), w = TestTimeAugmentation.ScaledSize(width, scale, _model.Stride);
            var probabilities = h == height && w == width ? AtSize(images) : Resize(AtSize(Resize(images, h, w)), height, width);
            sum = sum is null ? probabilities : sum.add_(probabilities);
        }
        return (Scales.Count == 1 ? sum! : sum!.div_(Scales.Count)).MoveToOuterDisposeScope();
    }

    /// <summary>Bilinear, half-pixel centres: the same resampling as the ONNX Runtime predictor's.</summary>
    private static Tensor Resize(Tensor x, int height, int width) =>
        nn.functional.interpolate(x, new long[] { height, width }, mode: InterpolationMode.Bilinear, align_corners: false);

    private Tensor AtSize(Tensor images)
    {
        long height = images.shape[2], width = images.shape[3];
        int tile = TileFor(height, width);
        return TileLayout.IsTiled(height, width, tile) ? Tiled(images, tile) : Whole(images);
    }

    private Tensor Whole(Tensor images)
    {
        using var scope = NewDisposeScope();
        var probabilities = Decision.Probabilities(_model.forward(images));
        if (FlipTta)
        {
            probabilities = probabilities
                + Decision.Probabilities(_model.forward(images.flip(3))).flip(3)
                + Decision.Probabilities(_model.forward(images.flip(2))).flip(2);
            probabilities = probabilities / 3;
        }
        return probabilities.MoveToOuterDisposeScope();
    }

    /// <summary>The tile edge an image of this size is predicted with; 0 for whole.</summary>
    public int TileFor(long height, long width) => TileLayout.TileFor(height, width, TileSize, MaxWholePixels);

    private Tensor Tiled(Tensor images, int tile)
    {
        using var scope = NewDisposeScope();
        long n = images.shape[0], height = images.shape[2], width = images.shape[3];
        var result = empty(n, _model.Classes, height, width);
        Bands(images, tile, (first, rows, probabilities) => result[.., .., first..(first + rows), ..].copy_(probabilities));
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Labels [N, H, W] (int32): the most probable class, or a multilabel model's bits. A tiled image without multi-scale TTA
    /// is labelled band by band (<see cref="Bands"/>), so memory holds one band of probabilities, not the image's.
    /// </summary>
    public Tensor Labels(Tensor images)
    {
        using var guard = Runtime.NativeScalarGuard.Enter();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        _model.eval();
        long n = images.shape[0], height = images.shape[2], width = images.shape[3];
        int tile = TileFor(height, width);
        if (!TileLayout.IsTiled(height, width, tile) || TestTimeAugmentation.IsScaled(Scales))
            return Decision.Labels(Probabilities(images)).to(ScalarType.Int32).MoveToOuterDisposeScope();
        var labels = empty(new[] { n, height, width }, ScalarType.Int32);
        Bands(images, tile, (first, rows, probabilities) => labels[.., first..(first + rows), ..].copy_(Decision.Labels(probabilities).to(ScalarType.Int32)));
        return labels.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// One row of tiles at a time into a band of accumulators as wide as the image and one tile high; after each row the
    /// rows no later tile reaches are finished, handed to <paramref name="finished"/> (first row, row count, probabilities
    /// [N, classes, rows, W]), and the band moves down. Each pixel sums its tiles in the same order as a whole-image
    /// accumulator would, so the values are identical; memory is one band.
    /// </summary>
    private void Bands(Tensor images, int tile, Action<int, int, Tensor> finished)
    {
        long n = images.shape[0];
        int height = (int)images.shape[2], width = (int)images.shape[3], h = Math.Min(tile, height), w = Math.Min(tile, width);
        var sum = zeros(n, _model.Classes, h, width);
        var weights = zeros(1, 1, h, width);
        var window = Window(h, w);
        var tops = Starts(height, tile);
        var lefts = Starts(width, tile);
        for (int k = 0; k < tops.Count; k++)
        {
            int top = (int)tops[k];
            foreach (long start in lefts)
            {
                using var step = NewDisposeScope();
                int left = (int)start;
                var crop = images[.., .., top..(top + h), left..(left + w)];
                sum[.., .., .., left..(left + w)].add_(Whole(crop) * window);
                weights[.., .., .., left..(left + w)].add_(window);
            }
            int done = (k + 1 < tops.Count ? (int)tops[k + 1] : height) - top;
            using (var step = NewDisposeScope())
                finished(top, done, sum[.., .., ..done, ..] / weights[.., .., ..done, ..]);
            // Move the unfinished rows to the top of the band and clear the rest.
            sum[.., .., ..(h - done), ..].copy_(sum[.., .., done.., ..].clone());
            sum[.., .., (h - done).., ..].zero_();
            weights[.., .., ..(h - done), ..].copy_(weights[.., .., done.., ..].clone());
            weights[.., .., (h - done).., ..].zero_();
        }
    }

    /// <summary>Tile origins covering [0, size): stride tile·(1 - overlap), the last tile flush with the edge.</summary>
    public IReadOnlyList<long> Starts(long size, int tile) => TileLayout.Starts(size, tile, Overlap);

    /// <summary>Separable Gaussian weight (<see cref="TileLayout.Gaussian"/>).</summary>
    private static Tensor Window(int height, int width)
    {
        var rows = tensor(TileLayout.Gaussian(height)).reshape(height, 1);
        var cols = tensor(TileLayout.Gaussian(width)).reshape(1, width);
        return (rows * cols).reshape(1, 1, height, width);
    }
}
