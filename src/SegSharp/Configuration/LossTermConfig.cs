namespace SegSharp.Configuration;

/// <summary>One weighted term of the training loss.</summary>
public sealed record LossTermConfig
{
    public required LossKind Kind { get; init; }
    public required double Weight { get; init; }

    /// <summary>Cross-entropy: per-class weights, or null for equal weights.</summary>
    public double[]? ClassWeights { get; init; }

    /// <summary>Cross-entropy: label smoothing in [0, 1).</summary>
    public double LabelSmoothing { get; init; }

    /// <summary>Cross-entropy: the U-Net paper's separation weight w0 on gaps between objects (0 = off).</summary>
    public double BorderWeight { get; init; }

    /// <summary>Cross-entropy: the separation weight's width σ in pixels.</summary>
    public double BorderSigma { get; init; } = 5;

    /// <summary>Cross-entropy: the class whose 4-connected regions are the objects the separation weight keeps apart.</summary>
    public int BorderClass { get; init; } = 1;

    /// <summary>Dice: additive smoothing of numerator and denominator.</summary>
    public double Smooth { get; init; } = 1.0;

    /// <summary>Dice: leave class 0 out of the mean.</summary>
    public bool ExcludeBackground { get; init; }

    public DiceMode Mode { get; init; } = DiceMode.Multiclass;

    /// <summary>Focal: focusing parameter.</summary>
    public double Gamma { get; init; } = 2.0;

    /// <summary>Focal: per-class weights alpha_c, or null.</summary>
    public double[]? Alpha { get; init; }

    internal const string Example = "{ name: cross_entropy, weight: 1.0 }";

    internal static LossTermConfig Read(ConfigSection s)
    {
        var kind = s.GetEnum("name", LossKind.CrossEntropy);
        bool border = s.Has("border_weight") || s.Has("border_sigma") || s.Has("border_class");
        double weight = s.GetDouble("weight", 1.0, 0, 1e6);
        return kind switch
        {
            LossKind.CrossEntropy => new LossTermConfig
            {
                Kind = kind, Weight = weight,
                ClassWeights = s.Has("class_weights") ? s.GetDoubles("class_weights", Array.Empty<double>()) : null,
                LabelSmoothing = s.GetDouble("label_smoothing", 0.0, 0.0, 0.999),
                BorderWeight = border ? s.GetDouble("border_weight", 0.0, 0.0, 1000.0) : 0.0,
                BorderSigma = border ? s.GetDouble("border_sigma", 5.0, 0.1, 1000.0) : 5.0,
                BorderClass = border ? s.GetInt("border_class", 1, 0, 65535) : 1,
            },
            LossKind.Dice => new LossTermConfig
            {
                Kind = kind, Weight = weight,
                Smooth = s.GetDouble("smooth", 1.0, 0.0, 1e6),
                ExcludeBackground = s.GetBool("exclude_background", false),
                Mode = s.GetEnum("mode", DiceMode.Multiclass),
            },
            LossKind.Focal => new LossTermConfig
            {
                Kind = kind, Weight = weight,
                Gamma = s.GetDouble("gamma", 2.0, 0.0, 100.0),
                Alpha = s.Has("alpha") ? s.GetDoubles("alpha", Array.Empty<double>()) : null,
            },
        };
    }
}
