using System.Globalization;

namespace SegSharp.Configuration;

/// <summary>
/// Multi-scale and flip test-time augmentation, shared by the libtorch and the ONNX Runtime predictors. Each scale
/// resizes the image (bilinear, half-pixel centres), each side rounded to the nearest multiple of the model's stride
/// (scale 1 keeps the image as it is), predicts it (tiled where large, flipped where asked), resizes the probabilities
/// back, and the probabilities of all scales are averaged with equal weights.
/// </summary>
public static class TestTimeAugmentation
{
    public const double MinScale = 0.25;
    public const double MaxScale = 4;
    public const int MaxScales = 8;

    /// <summary>One pass at the image's own size.</summary>
    public static IReadOnlyList<double> NoScaling { get; } = new[] { 1.0 };

    /// <summary>Throws a one-line error naming <paramref name="option"/> when a scale list is empty, too long, repeats or leaves the bounds.</summary>
    public static IReadOnlyList<double> Check(IReadOnlyList<double> scales, string option)
    {
        string given = string.Join(",", scales.Select(s => s.ToString(CultureInfo.InvariantCulture)));
        if (scales.Count is 0 or > MaxScales)
            throw new SegSharpException($"{option} '{given}' is not valid; give 1 to {MaxScales} scales, such as 0.75,1,1.25.");
        foreach (double scale in scales)
        {
            if (!(scale >= MinScale && scale <= MaxScale))
                throw new SegSharpException(string.Create(CultureInfo.InvariantCulture,
                    $"{option} scale {scale} is not valid; each scale must be from {MinScale} to {MaxScale}, such as 0.75,1,1.25."));
        }
        if (scales.Distinct().Count() != scales.Count)
            throw new SegSharpException($"{option} '{given}' repeats a scale; give each scale once, such as 0.75,1,1.25.");
        return scales;
    }

    /// <summary>Parses a comma-separated scale list ("0.75,1,1.25") and checks it.</summary>
    public static IReadOnlyList<double> Parse(string text, string option)
    {
        var scales = new List<double>();
        foreach (string part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            if (!double.TryParse(part, NumberStyles.Float, CultureInfo.InvariantCulture, out double scale))
                throw new SegSharpException($"{option} '{text}': '{part}' is not a number; give scales separated by commas, such as 0.75,1,1.25.");
            scales.Add(scale);
        }
        return Check(scales, option);
    }

    /// <summary>The side an image side of <paramref name="size"/> pixels is predicted at: itself at scale 1, else the nearest stride multiple.</summary>
    public static int ScaledSize(int size, double scale, int stride)
    {
        if (scale == 1) return size;
        stride = Math.Max(1, stride);
        return (int)Math.Max(stride, Math.Round(size * scale / stride) * stride);
    }

    /// <summary>Whether the scales do anything: more than one, or one other than 1.</summary>
    public static bool IsScaled(IReadOnlyList<double> scales) => scales.Count > 1 || scales[0] != 1;

    /// <summary>Model passes per image (or tile): one per scale, times three with flips.</summary>
    public static int Passes(bool flips, IReadOnlyList<double> scales) => scales.Count * (flips ? 3 : 1);

    /// <summary>The pixels pushed through the model, as a multiple of one plain pass: the sum of squared scales, times three with flips.</summary>
    public static double WorkFactor(bool flips, IReadOnlyList<double> scales) => scales.Sum(s => s * s) * (flips ? 3 : 1);

    /// <summary>For reports: "none", or e.g. "flips x3, scales 0.75/1/1.25: 9 passes, 9.4x the work of one pass".</summary>
    public static string Describe(bool flips, IReadOnlyList<double> scales)
    {
        bool scaled = IsScaled(scales);
        if (!flips && !scaled) return "none";
        var parts = new List<string>();
        if (flips) parts.Add("flips x3 (identity, horizontal, vertical)");
        if (scaled) parts.Add("scales " + string.Join("/", scales.Select(s => s.ToString(CultureInfo.InvariantCulture))));
        return string.Create(CultureInfo.InvariantCulture,
            $"{string.Join(", ", parts)}: {Passes(flips, scales)} passes, {WorkFactor(flips, scales):0.#}x the work of one pass");
    }
}
