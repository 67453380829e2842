namespace SegSharp.Configuration;

/// <summary>
/// One entry of <c>transforms.train</c> or <c>transforms.val</c>: its kind and the parameters that kind reads
/// (the others keep their defaults and are not written to the effective config).
/// </summary>
public sealed record TransformConfig
{
    public required TransformKind Kind { get; init; }

    /// <summary>resize, random_crop, center_crop: [height, width] in pixels.</summary>
    public int[] Size { get; init; } = { 256, 256 };

    /// <summary>hflip, vflip, rotate90, elastic: probability of applying.</summary>
    public double P { get; init; } = 0.5;

    /// <summary>random_scale: [min, max] scale factor.</summary>
    public double[] Range { get; init; } = { 0.75, 1.25 };

    /// <summary>elastic: displacement nodes per side of the coarse grid (the U-Net paper's 3).</summary>
    public int Grid { get; init; } = 3;

    /// <summary>elastic: standard deviation of each node's displacement, in pixels (the U-Net paper's 10).</summary>
    public double Sigma { get; init; } = 10;

    /// <summary>color_jitter: maximum relative brightness change.</summary>
    public double Brightness { get; init; } = 0.1;

    /// <summary>color_jitter: maximum relative contrast change.</summary>
    public double Contrast { get; init; } = 0.1;

    /// <summary>color_jitter: maximum gamma change.</summary>
    public double Gamma { get; init; }

    /// <summary>normalize: per-channel mean (one value applies to every channel).</summary>
    public double[] Mean { get; init; } = { 0.5 };

    /// <summary>normalize: per-channel standard deviation.</summary>
    public double[] Std { get; init; } = { 0.5 };

    internal const string Example = "{ name: hflip, p: 0.5 }";

    internal static TransformConfig Read(ConfigSection s)
    {
        var kind = s.GetEnum<TransformKind>("name");
        var config = new TransformConfig { Kind = kind };
        return kind switch
        {
            TransformKind.Resize or TransformKind.RandomCrop or TransformKind.CenterCrop =>
                config with { Size = s.GetInts("size", config.Size, 2, 1) },
            TransformKind.RandomScale => config with { Range = ReadRange(s, config.Range) },
            TransformKind.HorizontalFlip or TransformKind.VerticalFlip or TransformKind.Rotate90 =>
                config with { P = s.GetDouble("p", config.P, 0, 1) },
            TransformKind.Elastic => config with
            {
                P = s.GetDouble("p", config.P, 0, 1),
                Grid = s.GetInt("grid", config.Grid, 2, 64),
                Sigma = s.GetDouble("sigma", config.Sigma, 0, 1000),
            },
            TransformKind.ColorJitter => config with
            {
                Brightness = s.GetDouble("brightness", config.Brightness, 0, 1),
                Contrast = s.GetDouble("contrast", config.Contrast, 0, 1),
                Gamma = s.GetDouble("gamma", config.Gamma, 0, 0.9),
            },
            TransformKind.Normalize => config with { Mean = s.GetDoubles("mean", config.Mean), Std = ReadStd(s, config.Std) },
        };
    }

    private static double[] ReadRange(ConfigSection s, double[] defaultValue)
    {
        double[] range = s.GetDoubles("range", defaultValue, 2);
        if (!(range[0] > 0 && range[0] <= range[1])) throw s.Error("range", $"[{range[0]}, {range[1]}]", "[min, max] with 0 < min <= max");
        return range;
    }

    private static double[] ReadStd(ConfigSection s, double[] defaultValue)
    {
        double[] std = s.GetDoubles("std", defaultValue);
        if (std.Any(v => v <= 0)) throw s.Error("std", string.Join(", ", std), "positive numbers");
        return std;
    }
}
