using SegSharp.Configuration;
using SegSharp.Transforms;

namespace SegSharp.Inference;

/// <summary>
/// <see cref="TiledPredictor"/>'s prediction through ONNX Runtime, on plain arrays, one image at a time: whole
/// images up to the pixel limit, else overlapping tiles blended by the same Gaussian window (<see cref="TileLayout"/>),
/// and optional test-time augmentation averaging identity, horizontal and vertical flips and the same
/// <see cref="Scales"/>. Same cuts, same weights, same resampling, so masks agree with the checkpoint path up to float rounding.
/// </summary>
public sealed class OnnxTiledPredictor
{
    private readonly OnnxModel _model;
    private readonly int _classes;
    private readonly Models.ClassDecision _decision;

    public OnnxTiledPredictor(OnnxModel model, int tileSize, double overlap, bool flipTta, long maxWholePixels)
    {
        _model = model;
        _classes = model.Card.ClassCount;
        _decision = model.Card.Decision;
        TileSize = tileSize;
        Overlap = overlap;
        FlipTta = flipTta;
        MaxWholePixels = maxWholePixels;
    }

    public int TileSize { get; }
    public double Overlap { get; }
    public bool FlipTta { get; }
    public long MaxWholePixels { get; }

    /// <summary>Test-time scales whose probabilities are averaged (<see cref="TestTimeAugmentation"/>); 1 alone = none.</summary>
    public IReadOnlyList<double> Scales
    {
        get => _scales;
        init => _scales = TestTimeAugmentation.Check(value, "scales");
    }

    private readonly IReadOnlyList<double> _scales = TestTimeAugmentation.NoScaling;

    /// <param name="image">[channels, height, width], preprocessed.</param>
    /// <returns>Class probabilities [classes, height, width].</returns>
    public float[] Probabilities(float[] image, int channels, int height, int width)
    {
        float[]? sum = null;
        foreach (double scale in Scales)
        {
            int stride = _model.Card.Stride;
            int h = TestTimeAugmentation.ScaledSize(height, scale, stride), w = TestTimeAugmentation.ScaledSize(width, scale, stride);
            var probabilities = h == height && w == width
                ? AtSize(image, channels, height, width)
                : Resampling.ResizeBilinear(AtSize(Resampling.ResizeBilinear(image, channels, height, width, h, w), channels, h, w), _classes, h, w,
                    height, width);
            if (sum is null) sum = probabilities;
            else for (int i = 0; i < sum.Length; i++) sum[i] += probabilities[i];
        }
        if (Scales.Count > 1) for (int i = 0; i < sum!.Length; i++) sum[i] /= Scales.Count;
        return sum!;
    }

    private float[] AtSize(float[] image, int channels, int height, int width)
    {
        int tile = TileLayout.TileFor(height, width, TileSize, MaxWholePixels);
        return TileLayout.IsTiled(height, width, tile) ? Tiled(image, channels, height, width, tile) : Whole(image, height, width);
    }

    /// <returns>Every pixel's label, [height, width]: the most probable class, or a multilabel model's <see cref="Data.LabelBits"/>.</returns>
    /// <remarks>
    /// A tiled image without multi-scale TTA is labelled band by band (<see cref="Bands"/>): memory holds one band of
    /// probabilities instead of the whole image's (4 classes at 12000x12000: 200 MB instead of 2.3 GB).
    /// </remarks>
    public int[] ClassMap(float[] image, int channels, int height, int width)
    {
        int tile = TileLayout.TileFor(height, width, TileSize, MaxWholePixels);
        if (!TileLayout.IsTiled(height, width, tile) || TestTimeAugmentation.IsScaled(Scales))
            return _decision.Labels(Probabilities(image, channels, height, width), _classes, height * width);
        var labels = new int[height * width];
        Bands(image, channels, height, width, tile, (first, rows, probabilities) =>
            _decision.Labels(probabilities, _classes, rows * width, labels.AsSpan(first * width, rows * width)));
        return labels;
    }

    /// <summary>
    /// Tiles that go through ONNX Runtime in one <c>Run</c> (a batch of this many windows of one shape): fewer calls, and the
    /// convolutions work on larger blocks. Results equal one tile per run up to float rounding.
    /// </summary>
    public int TileBatch { get; init; } = 4;

    /// <summary>
    /// A batch of tiles holds at most this many pixels: ONNX Runtime's activations grow with the batch (the reference U-Net
    /// needs about 0.9 GB per 1024x1024 tile), so large tiles go one at a time.
    /// </summary>
    public const long MaxBatchPixels = 1024L * 1024;

    private float[] Whole(float[] image, int height, int width) => Batch(image, 1, height, width);

    /// <summary>Probabilities [n, classes, h, w] of n preprocessed images [n, channels, h, w] in one run (three with flip TTA).</summary>
    private float[] Batch(float[] images, int n, int height, int width)
    {
        var probabilities = ProbabilitiesOf(_model.Logits(images, n, height, width), n, height * width);
        if (!FlipTta) return probabilities;
        foreach (bool horizontal in new[] { true, false })
        {
            var flipped = ProbabilitiesOf(_model.Logits(Flip(images, height, width, horizontal), n, height, width), n, height * width);
            var back = Flip(flipped, height, width, horizontal);
            for (int i = 0; i < probabilities.Length; i++) probabilities[i] += back[i];
        }
        for (int i = 0; i < probabilities.Length; i++) probabilities[i] /= 3;
        return probabilities;
    }

    private float[] Tiled(float[] image, int channels, int height, int width, int tile)
    {
        int plane = height * width;
        var result = new float[_classes * plane];
        Bands(image, channels, height, width, tile, (first, rows, probabilities) =>
        {
            int band = rows * width;
            for (int c = 0; c < _classes; c++) Array.Copy(probabilities, c * band, result, c * plane + first * width, band);
        });
        return result;
    }

    /// <summary>
    /// Tiles one row of tiles at a time into a band of accumulators as wide as the image and one tile high: after each row,
    /// the rows no later tile reaches are finished and handed to <paramref name="finished"/> (first row, row count,
    /// probabilities [classes, rows, width] at the start of a reused buffer), and the band moves down. Memory is one band
    /// and one batch of tiles, reused, not the image's probabilities; each pixel sums its tiles in the same order as a
    /// whole-image accumulator would, so the values are identical.
    /// </summary>
    private void Bands(float[] image, int channels, int height, int width, int tile, Action<int, int, float[]> finished)
    {
        int h = Math.Min(tile, height), w = Math.Min(tile, width), window = channels * h * w, bandPlane = h * width, tilePlane = h * w;
        int perCall = (int)Math.Clamp(MaxBatchPixels / tilePlane, 1, TileBatch);
        var sum = new float[_classes * bandPlane];
        var weights = new float[bandPlane];
        var output = new float[_classes * bandPlane];
        var batch = new float[perCall * window];
        var logits = new float[perCall * _classes * tilePlane];
        float[] rows = TileLayout.Gaussian(h), columns = TileLayout.Gaussian(w);
        var tops = TileLayout.Starts(height, tile, Overlap);
        var lefts = TileLayout.Starts(width, tile, Overlap);
        for (int k = 0; k < tops.Count; k++)
        {
            int top = (int)tops[k];
            for (int first = 0; first < lefts.Count; first += perCall)
            {
                int count = Math.Min(perCall, lefts.Count - first);
                for (int t = 0; t < count; t++)
                {
                    // Tiles lie inside the image (the last one flush with its edge): plain row copies.
                    int left = (int)lefts[first + t];
                    for (int c = 0; c < channels; c++)
                        for (int y = 0; y < h; y++)
                            Array.Copy(image, (c * height + top + y) * width + left, batch, t * window + (c * h + y) * w, w);
                }
                var probabilities = FlipTta ? Batch(batch.AsSpan(0, count * window).ToArray(), count, h, w) : PlainBatch(batch, count, h, w, logits);
                for (int t = 0; t < count; t++)
                {
                    int offset = t * _classes * tilePlane, left = (int)lefts[first + t];
                    for (int y = 0; y < h; y++)
                    {
                        for (int x = 0; x < w; x++)
                        {
                            float weight = rows[y] * columns[x];
                            int target = y * width + left + x;
                            weights[target] += weight;
                            for (int c = 0; c < _classes; c++) sum[c * bandPlane + target] += probabilities[offset + (c * h + y) * w + x] * weight;
                        }
                    }
                }
            }
            int done = (k + 1 < tops.Count ? (int)tops[k + 1] : height) - top, band = done * width;
            for (int c = 0; c < _classes; c++)
                for (int i = 0; i < band; i++) output[c * band + i] = sum[c * bandPlane + i] / weights[i];
            finished(top, done, output);
            // Move the unfinished rows to the top of the band and clear the rest.
            int keep = (h - done) * width;
            for (int c = 0; c < _classes; c++)
            {
                Array.Copy(sum, c * bandPlane + band, sum, c * bandPlane, keep);
                Array.Clear(sum, c * bandPlane + keep, band);
            }
            Array.Copy(weights, band, weights, 0, keep);
            Array.Clear(weights, keep, band);
        }
    }

    /// <summary>Probabilities of n windows in <paramref name="images"/>, computed in <paramref name="logits"/> (reused, no allocation).</summary>
    private float[] PlainBatch(float[] images, int n, int height, int width, float[] logits)
    {
        _model.Logits(images, n, height, width, logits);
        int size = _classes * height * width;
        for (int i = 0; i < n; i++) _decision.Probabilities(logits.AsSpan(i * size, size), _classes, height * width);
        return logits;
    }

    /// <summary>Probabilities of n images' logits [n, classes, plane], image by image, in place.</summary>
    private float[] ProbabilitiesOf(float[] logits, int n, int plane)
    {
        if (n == 1) return _decision.Probabilities(logits, _classes, plane);
        int size = _classes * plane;
        for (int i = 0; i < n; i++)
        {
            var one = _decision.Probabilities(logits.AsSpan(i * size, size).ToArray(), _classes, plane);
            one.CopyTo(logits, i * size);
        }
        return logits;
    }

    /// <summary>A copy of [planes, height, width] mirrored left-right (horizontal) or top-bottom.</summary>
    private static float[] Flip(float[] source, int height, int width, bool horizontal)
    {
        var result = new float[source.Length];
        int planes = source.Length / (height * width);
        for (int p = 0; p < planes; p++)
        {
            for (int y = 0; y < height; y++)
            {
                int sourceRow = (p * height + (horizontal ? y : height - 1 - y)) * width, targetRow = (p * height + y) * width;
                if (horizontal) for (int x = 0; x < width; x++) result[targetRow + x] = source[sourceRow + width - 1 - x];
                else Array.Copy(source, sourceRow, result, targetRow, width);
            }
        }
        return result;
    }
}
