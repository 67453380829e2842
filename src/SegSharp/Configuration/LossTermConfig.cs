namespace SegSharp.Configuration;

/// <summary>One weighted term of the training loss.</summary>
public sealed record LossTermConfig
{
    public static readonly string[] Names = { "cross_entropy", "dice", "focal" };

    public required string Name { get; init; }
    public required double Weight { get; init; }

    /// <summary>Cross-entropy: per-class weights, or null for equal weights.</summary>
    public double[]? ClassWeights { get; init; }

    /// <summary>Cross-entropy: label smoothing in [0, 1).</summary>
    public double LabelSmoothing { get; init; }

    /// <summary>Dice: additive smoothing of numerator and denominator.</summary>
    public double Smooth { get; init; } = 1.0;

    /// <summary>Dice: leave class 0 out of the mean.</summary>
    public bool ExcludeBackground { get; init; }

    /// <summary>Dice: multiclass (softmax over C channels) or binary (sigmoid on one channel).</summary>
    public string Mode { get; init; } = "multiclass";

    /// <summary>Focal: focusing parameter.</summary>
    public double Gamma { get; init; } = 2.0;

    /// <summary>Focal: per-class weights alpha_c, or null.</summary>
    public double[]? Alpha { get; init; }

    internal static LossTermConfig Read(ConfigSection s)
    {
        string name = s.GetString("name", "cross_entropy", Names);
        double weight = s.GetDouble("weight", 1.0, 0, 1e6);
        return name switch
        {
            "cross_entropy" => new LossTermConfig
            {
                Name = name, Weight = weight,
                ClassWeights = s.Has("class_weights") ? s.GetDoubles("class_weights", Array.Empty<double>()) : null,
                LabelSmoothing = s.GetDouble("label_smoothing", 0.0, 0.0, 0.999),
            },
            "dice" => new LossTermConfig
            {
                Name = name, Weight = weight,
                Smooth = s.GetDouble("smooth", 1.0, 0.0, 1e6),
                ExcludeBackground = s.GetBool("exclude_background", false),
                Mode = s.GetString("mode", "multiclass", "multiclass", "binary"),
            },
            _ => new LossTermConfig
            {
                Name = name, Weight = weight,
                Gamma = s.GetDouble("gamma", 2.0, 0.0, 100.0),
                Alpha = s.Has("alpha") ? s.GetDoubles("alpha", Array.Empty<double>()) : null,
            },
        };
    }
}
