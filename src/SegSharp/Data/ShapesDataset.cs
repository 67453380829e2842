using SegSharp.Runtime;

namespace SegSharp.Data;

/// <summary>
/// The embedded default dataset, generated on demand so it needs no files: RGB images of discs, squares and
/// triangles on a noisy textured background, with per-class masks. Sample i depends only on (seed, i).
/// Shape colours overlap between classes, so a model has to learn shape, not just colour.
/// </summary>
public sealed class ShapesDataset : ISegmentationDataset
{
    public const string Spec = "builtin:shapes";

    public ShapesDataset(int count = 96, int size = 96, long seed = 2026)
    {
        Count = count;
        Size = size;
        Seed = seed;
        Description = new DatasetDescription
        {
            Name = "shapes", SourcePath = Spec, Root = Spec, ImagesDirectory = Spec, MasksDirectory = Spec,
            Channels = 3, MaskEncoding = "index",
            Classes = new[] { "background", "disc", "square", "triangle" }.Select((n, i) => new ClassInfo(i, n, i, ClassPalette.Default(i))).ToList(),
            IgnoreIndex = 255, IgnoreValues = Array.Empty<int>(),
            Split = new SplitSpec("ratio", 0.2, 0, null, null),
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
            var color = new[] { random.NextDouble(0.3, 1.0), random.NextDouble(0.0, 0.9), random.NextDouble(0.0, 0.9) };
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

    private static bool Inside(int cls, double dx, double dy, double r) => cls switch
    {
        1 => dx * dx + dy * dy <= r * r,
        2 => Math.Abs(dx) <= r * 0.85 && Math.Abs(dy) <= r * 0.85,
        // Upward triangle with apex at -r and base at +r/2.
        _ => dy >= -r && dy <= r * 0.6 && Math.Abs(dx) <= (dy + r) * 0.6,
    };
}
