using SegSharp.Runtime;

namespace SegSharp.Data;

/// <summary>
/// The embedded default dataset, generated on demand so it needs no files: RGB images of discs, squares and
/// triangles on a noisy textured background, with per-class masks. Sample i depends only on (seed, i).
/// Each class has a typical hue (discs reddish, squares greenish, triangles bluish) with wide jitter, so colour
/// helps but shape still matters where hues overlap.
/// </summary>
public sealed class ShapesDataset : ISegmentationDataset
{
    public const string Spec = Configuration.DataConfig.BuiltinShapes;

    public ShapesDataset(int count = 96, int size = 96, long seed = 2026)
    {
        Count = count;
        Size = size;
        Seed = seed;
        Description = new DatasetDescription
        {
            Name = "shapes", SourcePath = Spec, Root = Spec, ImagesDirectory = Spec, MasksDirectory = Spec,
            Channels = 3, MaskEncoding = MaskEncoding.Index,
            Classes = new[] { "background", "disc", "square", "triangle" }.Select((n, i) => new ClassInfo(i, n, i, ClassPalette.Default(i))).ToList(),
            IgnoreIndex = 255, IgnoreValues = Array.Empty<int>(),
            Split = new SplitSpec(SplitMethod.Ratio, 0.2, 0, null, null),
        };
    }

    public int Size { get; }
    public long Seed { get; }
    public DatasetDescription Description { get; }
    public int Count { get; }

    public string NameOf(int index) => $"shape{index:D4}";

    public Sample Load(int index)
    {
        var random = SeededRandom.For(Seed, index);
        int n = Size, plane = n * n;
        var image = new float[3 * plane];
        var mask = new int[plane];
        // Background: a smooth colour gradient plus pixel noise.
        var baseColor = new[] { random.NextDouble(0.2, 0.6), random.NextDouble(0.2, 0.6), random.NextDouble(0.2, 0.6) };
        double gx = random.NextDouble(-0.2, 0.2), gy = random.NextDouble(-0.2, 0.2);
        for (int y = 0; y < n; y++)
            for (int x = 0; x < n; x++)
                for (int c = 0; c < 3; c++)
                    image[c * plane + y * n + x] = (float)(baseColor[c] + gx * x / n + gy * y / n + random.NextDouble(-0.08, 0.08));
        int shapes = 1 + random.NextInt(3);
        for (int s = 0; s < shapes; s++)
        {
            int cls = 1 + random.NextInt(3);
            double cx = random.NextDouble(0.2, 0.8) * n, cy = random.NextDouble(0.2, 0.8) * n, r = random.NextDouble(0.1, 0.22) * n;
            var typical = TypicalColors[cls - 1];
            var color = typical.Select(c => Math.Clamp(c + random.NextDouble(-0.25, 0.25), 0, 1)).ToArray();
            for (int y = 0; y < n; y++)
            {
                for (int x = 0; x < n; x++)
                {
                    if (!Inside(cls, x + 0.5 - cx, y + 0.5 - cy, r)) continue;
                    mask[y * n + x] = cls;
                    for (int c = 0; c < 3; c++)
                        image[c * plane + y * n + x] = (float)(color[c] + random.NextDouble(-0.08, 0.08));
                }
            }
        }
        for (int i = 0; i < image.Length; i++) image[i] = Math.Clamp(image[i], 0f, 1f);
        return new Sample(NameOf(index), image, mask, 3, n, n, Description.IgnoreIndex);
    }

    private static readonly double[][] TypicalColors =
    {
        new[] { 0.85, 0.3, 0.25 }, new[] { 0.3, 0.8, 0.3 }, new[] { 0.3, 0.35, 0.9 },
    };

    private static bool Inside(int cls, double dx, double dy, double r) => cls switch
    {
        1 => dx * dx + dy * dy <= r * r,
        2 => Math.Abs(dx) <= r * 0.85 && Math.Abs(dy) <= r * 0.85,
        // Upward triangle with apex at -r and base at +r/2.
        _ => dy >= -r && dy <= r * 0.6 && Math.Abs(dx) <= (dy + r) * 0.6,
    };
}
