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
        return tile == 0 || (height <= tile && width <= tile) ? Whole(image, height, width) : Tiled(image, channels, height, width, tile);
    }

    /// <returns>Every pixel's label, [height, width]: the most probable class, or a multilabel model's <see cref="Data.LabelBits"/>.</returns>
    public int[] ClassMap(float[] image, int channels, int height, int width) =>
        _decision.Labels(Probabilities(image, channels, height, width), _classes, height * width);

    /// <summary>
    /// Tiles that go through ONNX Runtime in one <c>Run</c> (a batch of this many windows of one shape): fewer calls, and the
    /// convolutions work on larger blocks. Results equal one tile per run up to float rounding.
    /// </summary>
    public int TileBatch { get; init; } = 4;

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
        int h = Math.Min(tile, height), w = Math.Min(tile, width), plane = height * width, window = channels * h * w;
        var sum = new float[_classes * plane];
        var weights = new float[plane];
        float[] rows = TileLayout.Gaussian(h), columns = TileLayout.Gaussian(w);
        var origins = TileLayout.Starts(height, tile, Overlap).SelectMany(top => TileLayout.Starts(width, tile, Overlap).Select(left => ((int)top,
            (int)left))).ToList();
        for (int first = 0; first < origins.Count; first += TileBatch)
        {
            var chunk = origins.Skip(first).Take(TileBatch).ToList();
            var batch = new float[chunk.Count * window];
            for (int t = 0; t < chunk.Count; t++)
                Resampling.Window(image, channels, height, width, chunk[t].Item1, chunk[t].Item2, h, w, 0f).CopyTo(batch, t * window);
            var probabilities = Batch(batch, chunk.Count, h, w);
            for (int t = 0; t < chunk.Count; t++)
            {
                var (top, left) = chunk[t];
                int offset = t * _classes * h * w;
                for (int y = 0; y < h; y++)
                {
                    for (int x = 0; x < w; x++)
                    {
                        float weight = rows[y] * columns[x];
                        int target = (top + y) * width + left + x;
                        weights[target] += weight;
                        for (int c = 0; c < _classes; c++) sum[c * plane + target] += probabilities[offset + (c * h + y) * w + x] * weight;
                    }
                }
            }
        }
        for (int c = 0; c < _classes; c++)
            for (int i = 0; i < plane; i++) sum[c * plane + i] /= weights[i];
        return sum;
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
