using SegSharp.Configuration;
using SegSharp.Data;
using SegSharp.Runtime;

namespace SegSharp.Transforms;

/// <summary>An ordered list of joint transforms, built from config and applied in order.</summary>
public sealed class TransformPipeline
{
    public TransformPipeline(IReadOnlyList<IJointTransform> steps) => Steps = steps;

    public IReadOnlyList<IJointTransform> Steps { get; }

    public static TransformPipeline Empty { get; } = new(Array.Empty<IJointTransform>());

    public Sample Apply(Sample sample, SeededRandom random)
    {
        foreach (var step in Steps) sample = step.Apply(sample, random);
        return sample;
    }

    /// <summary>Reads a list such as <c>- { name: random_crop, size: [256, 256] }</c>.</summary>
    public static TransformPipeline Read(IReadOnlyList<ConfigSection> items) => new(items.Select(ReadOne).ToList());

    public static readonly string[] Names =
        { "resize", "random_scale", "random_crop", "center_crop", "hflip", "vflip", "rotate90", "color_jitter", "normalize" };

    private static IJointTransform ReadOne(ConfigSection s)
    {
        string name = s.GetString("name", "", Names);
        return name switch
        {
            "resize" => Sized(s, (h, w) => new Resize(h, w)),
            "random_crop" => Sized(s, (h, w) => new RandomCrop(h, w)),
            "center_crop" => Sized(s, (h, w) => new CenterCrop(h, w)),
            "random_scale" => ReadScale(s),
            "hflip" => new Flip(true, s.GetDouble("p", 0.5, 0, 1)),
            "vflip" => new Flip(false, s.GetDouble("p", 0.5, 0, 1)),
            "rotate90" => new RandomRotate90(s.GetDouble("p", 0.5, 0, 1)),
            "color_jitter" => new ColorJitter(s.GetDouble("brightness", 0.1, 0, 1), s.GetDouble("contrast", 0.1, 0, 1), s.GetDouble("gamma", 0.0, 0, 0.9)),
            _ => new Normalize(s.GetDoubles("mean", new[] { 0.5 }), ReadStd(s)),
        };
    }

    private static IJointTransform Sized(ConfigSection s, Func<int, int, IJointTransform> make)
    {
        int[] size = s.GetInts("size", new[] { 256, 256 }, 2, 1);
        return make(size[0], size[1]);
    }

    private static IJointTransform ReadScale(ConfigSection s)
    {
        double[] range = s.GetDoubles("range", new[] { 0.75, 1.25 }, 2);
        if (!(range[0] > 0 && range[0] <= range[1])) throw s.Error("range", $"[{range[0]}, {range[1]}]", "[min, max] with 0 < min <= max");
        return new RandomScale(range[0], range[1]);
    }

    private static double[] ReadStd(ConfigSection s)
    {
        double[] std = s.GetDoubles("std", new[] { 0.5 });
        if (std.Any(v => v <= 0)) throw s.Error("std", string.Join(", ", std), "positive numbers");
        return std;
    }
}
