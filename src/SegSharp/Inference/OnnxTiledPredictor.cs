using SegSharp.Transforms;

namespace SegSharp.Inference;

/// <summary>
/// <see cref="TiledPredictor"/>'s prediction through ONNX Runtime, on plain arrays, one image at a time: whole
/// images up to the pixel limit, else overlapping tiles blended by the same centre-weighted window
/// (<see cref="TileLayout"/>), and optional flip test-time augmentation averaging identity, horizontal and
/// vertical flips. Same cuts, same weights, so masks agree with the checkpoint path up to float rounding.
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

    /// <param name="image">[channels, height, width], preprocessed.</param>
    /// <returns>Class probabilities [classes, height, width].</returns>
    public float[] Probabilities(float[] image, int channels, int height, int width)
    {
        int tile = TileLayout.TileFor(height, width, TileSize, MaxWholePixels);
        return tile == 0 || (height <= tile && width <= tile) ? Whole(image, height, width) : Tiled(image, channels, height, width, tile);
    }

    /// <returns>Every pixel's label, [height, width]: the most probable class, or a multilabel model's <see cref="Data.LabelBits"/>.</returns>
    public int[] ClassMap(float[] image, int channels, int height, int width) =>
        _decision.Labels(Probabilities(image, channels, height, width), _classes, height * width);

    private float[] Whole(float[] image, int height, int width)
    {
        var probabilities = ProbabilitiesOf(_model.Logits(image, 1, height, width), height * width);
        if (!FlipTta) return probabilities;
        foreach (bool horizontal in new[] { true, false })
        {
            var flipped = ProbabilitiesOf(_model.Logits(Flip(image, height, width, horizontal), 1, height, width), height * width);
            var back = Flip(flipped, height, width, horizontal);
            for (int i = 0; i < probabilities.Length; i++) probabilities[i] += back[i];
        }
        for (int i = 0; i < probabilities.Length; i++) probabilities[i] /= 3;
        return probabilities;
    }

    private float[] Tiled(float[] image, int channels, int height, int width, int tile)
    {
        int h = Math.Min(tile, height), w = Math.Min(tile, width), plane = height * width;
        var sum = new float[_classes * plane];
        var weights = new float[plane];
        float[] rows = TileLayout.Ramp(h), columns = TileLayout.Ramp(w);
        foreach (int top in TileLayout.Starts(height, tile, Overlap).Select(s => (int)s))
        {
            foreach (int left in TileLayout.Starts(width, tile, Overlap).Select(s => (int)s))
            {
                var probabilities = Whole(Resampling.Window(image, channels, height, width, top, left, h, w, 0f), h, w);
                for (int y = 0; y < h; y++)
                {
                    for (int x = 0; x < w; x++)
                    {
                        float weight = rows[y] * columns[x];
                        int target = (top + y) * width + left + x;
                        weights[target] += weight;
                        for (int c = 0; c < _classes; c++) sum[c * plane + target] += probabilities[(c * h + y) * w + x] * weight;
                    }
                }
            }
        }
        for (int c = 0; c < _classes; c++)
            for (int i = 0; i < plane; i++) sum[c * plane + i] /= weights[i];
        return sum;
    }

    private float[] ProbabilitiesOf(float[] logits, int plane) => _decision.Probabilities(logits, _classes, plane);

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
