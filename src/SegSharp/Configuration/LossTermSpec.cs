namespace SegSharp.Configuration;

/// <summary>
/// One weighted term of <c>loss.terms</c>: a record per loss holding exactly its parameters, read in one place
/// (<see cref="Read"/>); the loss stage builds each with one line (<c>WeightedLoss.Create</c>).
/// </summary>
/// <param name="Weight">The term's factor in the weighted sum.</param>
public abstract record LossTermSpec(double Weight)
{
    public abstract LossKind Kind { get; }

    internal const string Example = "{ name: cross_entropy, weight: 1.0 }";

    /// <summary>The term a config gets for <c>{ name: KIND }</c> alone: every kind has a spec (the compiler checks this switch).</summary>
    public static LossTermSpec Default(LossKind kind) => kind switch
    {
        LossKind.CrossEntropy => new CrossEntropySpec(),
        LossKind.Dice => new DiceSpec(),
        LossKind.Focal => new FocalSpec(),
        LossKind.Tversky => new TverskySpec(),
        LossKind.OhemCrossEntropy => new OhemCrossEntropySpec(),
        LossKind.LovaszSoftmax => new LovaszSoftmaxSpec(),
    };

    internal static LossTermSpec Read(ConfigSection s)
    {
        double weight = s.GetDouble("weight", 1.0, 0, 1e6);
        return s.GetEnum("name", LossKind.CrossEntropy) switch
        {
            LossKind.CrossEntropy => ReadCrossEntropy(s, weight),
            LossKind.Dice => new DiceSpec(weight, s.GetDouble("smooth", 1.0, 0.0, 1e6), s.GetBool("exclude_background", false),
                s.GetEnum("mode", DiceMode.Multiclass)),
            LossKind.Focal => new FocalSpec(weight, s.GetDouble("gamma", 2.0, 0.0, 100.0),
                s.Has("alpha") ? s.GetDoubles("alpha", Array.Empty<double>()) : null),
            LossKind.Tversky => new TverskySpec(weight, s.GetDouble("alpha", 0.3, 0.0, 1000.0), s.GetDouble("beta", 0.7, 0.0, 1000.0),
                s.GetDouble("gamma", 1.0, 0.01, 10.0), s.GetDouble("smooth", 1.0, 0.0, 1e6), s.GetBool("exclude_background", false)),
            LossKind.OhemCrossEntropy => new OhemCrossEntropySpec(weight, s.GetDouble("threshold", 0.7, 0.0, 1.0), s.GetInt("min_kept", 0, 0, int.MaxValue),
                s.Has("class_weights") ? s.GetDoubles("class_weights", Array.Empty<double>()) : null),
            LossKind.LovaszSoftmax => new LovaszSoftmaxSpec(weight),
        };
    }

    /// <summary>The border keys are read (and so written to the effective config) only when one of them is given.</summary>
    private static CrossEntropySpec ReadCrossEntropy(ConfigSection s, double weight)
    {
        bool border = s.Has("border_weight") || s.Has("border_sigma") || s.Has("border_class");
        return new CrossEntropySpec(weight,
            ClassWeights: s.Has("class_weights") ? s.GetDoubles("class_weights", Array.Empty<double>()) : null,
            LabelSmoothing: s.GetDouble("label_smoothing", 0.0, 0.0, 0.999),
            BorderWeight: border ? s.GetDouble("border_weight", 0.0, 0.0, 1000.0) : 0.0,
            BorderSigma: border ? s.GetDouble("border_sigma", 5.0, 0.1, 1000.0) : 5.0,
            BorderClass: border ? s.GetInt("border_class", 1, 0, 65535) : 1);
    }
}

/// <summary>cross_entropy.</summary>
/// <param name="ClassWeights">Per-class weights, or null for equal weights.</param>
/// <param name="LabelSmoothing">In [0, 1).</param>
/// <param name="BorderWeight">The U-Net paper's separation weight w0 on gaps between objects (0 = off).</param>
/// <param name="BorderSigma">The separation weight's width σ in pixels.</param>
/// <param name="BorderClass">The class whose 4-connected regions are the objects the separation weight keeps apart.</param>
public sealed record CrossEntropySpec(double Weight = 1.0, double[]? ClassWeights = null, double LabelSmoothing = 0, double BorderWeight = 0,
    double BorderSigma = 5, int BorderClass = 1) : LossTermSpec(Weight)
{
    public override LossKind Kind => LossKind.CrossEntropy;
}

/// <summary>dice: soft Dice.</summary>
/// <param name="Smooth">Additive smoothing of numerator and denominator.</param>
/// <param name="ExcludeBackground">Leave class 0 out of the mean.</param>
public sealed record DiceSpec(double Weight = 1.0, double Smooth = 1.0, bool ExcludeBackground = false, DiceMode Mode = DiceMode.Multiclass)
    : LossTermSpec(Weight)
{
    public override LossKind Kind => LossKind.Dice;
}

/// <summary>focal.</summary>
/// <param name="Gamma">The focusing parameter.</param>
/// <param name="Alpha">Per-class weights alpha_c, or null.</param>
public sealed record FocalSpec(double Weight = 1.0, double Gamma = 2.0, double[]? Alpha = null) : LossTermSpec(Weight)
{
    public override LossKind Kind => LossKind.Focal;
}

/// <summary>tversky: Tversky loss, focal with gamma below 1.</summary>
/// <param name="Alpha">The weight of false positives (0.3).</param>
/// <param name="Beta">The weight of false negatives (0.7: recall of rare classes counts more).</param>
/// <param name="Gamma">The exponent of (1 - Tversky index); 1 is the plain loss, 0.75 the focal Tversky loss.</param>
public sealed record TverskySpec(double Weight = 1.0, double Alpha = 0.3, double Beta = 0.7, double Gamma = 1.0, double Smooth = 1.0,
    bool ExcludeBackground = false) : LossTermSpec(Weight)
{
    public override LossKind Kind => LossKind.Tversky;
}

/// <summary>ohem_cross_entropy: cross-entropy over the hard pixels only.</summary>
/// <param name="Threshold">Pixels whose probability of their true class is below this are hard (0.7).</param>
/// <param name="MinKept">At least this many pixels per batch count (the lowest-probability ones); 0 for none.</param>
public sealed record OhemCrossEntropySpec(double Weight = 1.0, double Threshold = 0.7, int MinKept = 0, double[]? ClassWeights = null)
    : LossTermSpec(Weight)
{
    public override LossKind Kind => LossKind.OhemCrossEntropy;
}

/// <summary>lovasz_softmax: the Lovász-softmax surrogate of 1 - IoU, per image over the classes present.</summary>
public sealed record LovaszSoftmaxSpec(double Weight = 1.0) : LossTermSpec(Weight)
{
    public override LossKind Kind => LossKind.LovaszSoftmax;
}
