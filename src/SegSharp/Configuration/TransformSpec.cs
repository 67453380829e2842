using System.Text.Json.Serialization;

namespace SegSharp.Configuration;

/// <summary>
/// One entry of <c>transforms.train</c> or <c>transforms.val</c>: a record per transform holding exactly its parameters,
/// read in one place (<see cref="Read"/> and the record's own reader). In JSON (a checkpoint's model card) it is written
/// with its kind first, <c>{"kind": "normalize", "mean": [...], "std": [...]}</c>; the kind names are the option names
/// of <see cref="TransformKind"/> (a test holds the two lists together).
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "kind")]
[JsonDerivedType(typeof(ResizeSpec), "resize")]
[JsonDerivedType(typeof(RandomScaleSpec), "random_scale")]
[JsonDerivedType(typeof(RandomCropSpec), "random_crop")]
[JsonDerivedType(typeof(CenterCropSpec), "center_crop")]
[JsonDerivedType(typeof(HorizontalFlipSpec), "hflip")]
[JsonDerivedType(typeof(VerticalFlipSpec), "vflip")]
[JsonDerivedType(typeof(Rotate90Spec), "rotate90")]
[JsonDerivedType(typeof(ElasticSpec), "elastic")]
[JsonDerivedType(typeof(ColorJitterSpec), "color_jitter")]
[JsonDerivedType(typeof(NormalizeSpec), "normalize")]
public abstract record TransformSpec
{
    /// <summary>The transform's kind (in JSON, the discriminator <c>kind</c>).</summary>
    [JsonIgnore]
    public TransformKind Kind => KindOf();

    /// <summary>A method, not a property, so that JSON never sees it twice.</summary>
    protected abstract TransformKind KindOf();

    internal const string Example = "{ name: hflip, p: 0.5 }";

    /// <summary>The spec a config gets for <c>{ name: KIND }</c> alone: every kind has a record (the compiler checks this switch).</summary>
    public static TransformSpec Default(TransformKind kind) => kind switch
    {
        TransformKind.Resize => new ResizeSpec(new[] { 256, 256 }),
        TransformKind.RandomCrop => new RandomCropSpec(new[] { 256, 256 }),
        TransformKind.CenterCrop => new CenterCropSpec(new[] { 256, 256 }),
        TransformKind.RandomScale => new RandomScaleSpec(new[] { 0.75, 1.25 }),
        TransformKind.HorizontalFlip => new HorizontalFlipSpec(0.5),
        TransformKind.VerticalFlip => new VerticalFlipSpec(0.5),
        TransformKind.Rotate90 => new Rotate90Spec(0.5),
        TransformKind.Elastic => new ElasticSpec(0.5, 3, 10),
        TransformKind.ColorJitter => new ColorJitterSpec(0.1, 0.1, 0),
        TransformKind.Normalize => new NormalizeSpec(new[] { 0.5 }, new[] { 0.5 }),
    };

    internal static TransformSpec Read(ConfigSection s) => s.GetEnum<TransformKind>("name") switch
    {
        TransformKind.Resize => new ResizeSpec(ReadSize(s)),
        TransformKind.RandomCrop => new RandomCropSpec(ReadSize(s)),
        TransformKind.CenterCrop => new CenterCropSpec(ReadSize(s)),
        TransformKind.RandomScale => new RandomScaleSpec(ReadRange(s)),
        TransformKind.HorizontalFlip => new HorizontalFlipSpec(ReadP(s)),
        TransformKind.VerticalFlip => new VerticalFlipSpec(ReadP(s)),
        TransformKind.Rotate90 => new Rotate90Spec(ReadP(s)),
        TransformKind.Elastic => new ElasticSpec(ReadP(s), s.GetInt("grid", 3, 2, 64), s.GetDouble("sigma", 10, 0, 1000)),
        TransformKind.ColorJitter => new ColorJitterSpec(s.GetDouble("brightness", 0.1, 0, 1), s.GetDouble("contrast", 0.1, 0, 1),
            s.GetDouble("gamma", 0, 0, 0.9)),
        TransformKind.Normalize => new NormalizeSpec(s.GetDoubles("mean", new[] { 0.5 }), ReadStd(s)),
    };

    /// <summary>resize, random_crop, center_crop: [height, width] in pixels (default 256 x 256).</summary>
    private static int[] ReadSize(ConfigSection s) => s.GetInts("size", new[] { 256, 256 }, 2, 1);

    /// <summary>The probability of applying a random transform (default 0.5).</summary>
    private static double ReadP(ConfigSection s) => s.GetDouble("p", 0.5, 0, 1);

    private static double[] ReadRange(ConfigSection s)
    {
        double[] range = s.GetDoubles("range", new[] { 0.75, 1.25 }, 2);
        if (!(range[0] > 0 && range[0] <= range[1])) throw s.Error("range", $"[{range[0]}, {range[1]}]", "[min, max] with 0 < min <= max");
        return range;
    }

    private static double[] ReadStd(ConfigSection s)
    {
        double[] std = s.GetDoubles("std", new[] { 0.5 });
        if (std.Any(v => v <= 0)) throw s.Error("std", string.Join(", ", std), "positive numbers");
        return std;
    }
}

/// <summary>resize: to [height, width], bilinear for the image and nearest for the mask.</summary>
public sealed record ResizeSpec(int[] Size) : TransformSpec
{
    protected override TransformKind KindOf() => TransformKind.Resize;
}

/// <summary>random_scale: by a factor drawn from [min, max].</summary>
public sealed record RandomScaleSpec(double[] Range) : TransformSpec
{
    protected override TransformKind KindOf() => TransformKind.RandomScale;
}

/// <summary>random_crop: a [height, width] window at a random place (padded with ignore where the image is smaller).</summary>
public sealed record RandomCropSpec(int[] Size) : TransformSpec
{
    protected override TransformKind KindOf() => TransformKind.RandomCrop;
}

/// <summary>center_crop: the central [height, width] window.</summary>
public sealed record CenterCropSpec(int[] Size) : TransformSpec
{
    protected override TransformKind KindOf() => TransformKind.CenterCrop;
}

/// <summary>hflip: a left-right mirror with probability P.</summary>
public sealed record HorizontalFlipSpec(double P) : TransformSpec
{
    protected override TransformKind KindOf() => TransformKind.HorizontalFlip;
}

/// <summary>vflip: an up-down mirror with probability P.</summary>
public sealed record VerticalFlipSpec(double P) : TransformSpec
{
    protected override TransformKind KindOf() => TransformKind.VerticalFlip;
}

/// <summary>rotate90: a rotation by 90, 180 or 270 degrees with probability P.</summary>
public sealed record Rotate90Spec(double P) : TransformSpec
{
    protected override TransformKind KindOf() => TransformKind.Rotate90;
}

/// <summary>elastic: with probability P, a smooth deformation from a Grid x Grid lattice of displacements of σ pixels (the U-Net paper's 3 and 10).</summary>
public sealed record ElasticSpec(double P, int Grid, double Sigma) : TransformSpec
{
    protected override TransformKind KindOf() => TransformKind.Elastic;
}

/// <summary>color_jitter: brightness and contrast changed by up to the given fractions, gamma by up to the given amount.</summary>
public sealed record ColorJitterSpec(double Brightness, double Contrast, double Gamma) : TransformSpec
{
    protected override TransformKind KindOf() => TransformKind.ColorJitter;
}

/// <summary>normalize: (x - mean) / std per channel; one value applies to every channel.</summary>
public sealed record NormalizeSpec(double[] Mean, double[] Std) : TransformSpec
{
    protected override TransformKind KindOf() => TransformKind.Normalize;
}
