namespace SegSharp.Configuration;

/// <summary>
/// What input each encoder's starting weights expect, so configs are checked against the encoder rather than against a
/// list of special cases. ML.NET's ResNet-18 takes plain 0..1 pixels and normalises them inside the model; torchvision's
/// ImageNet ResNets were trained on pixels normalised by ImageNet's channel mean and std, which the recipe's normalize
/// step must supply.
/// </summary>
public static class EncoderInput
{
    /// <summary>ImageNet's channel statistics (RGB, pixels in 0..1), the normalisation torchvision's ResNet weights were trained with.</summary>
    public static readonly double[] ImageNetMean = { 0.485, 0.456, 0.406 }, ImageNetStd = { 0.229, 0.224, 0.225 };

    /// <summary>Whether the encoder normalises its input itself (a normalize step in the config would apply twice).</summary>
    public static bool NormalisesItself(EncoderKind kind) => kind == EncoderKind.MlnetResNet18;

    /// <summary>Whether the encoder has weights of its own to start from (<c>encoder_weights: pretrained</c>).</summary>
    public static bool HasBundledWeights(EncoderKind kind) => kind == EncoderKind.MlnetResNet18;

    /// <summary>
    /// A warning when <paramref name="model"/> starts from a torchvision state dict but <paramref name="validation"/>'s
    /// normalize step is not ImageNet's three channels' (a gray or N-band recipe gets the warning too: its first convolution
    /// is adapted, but its pixels' scale is still the recipe's choice); null when the input is what the weights expect, or
    /// when no external weights are loaded.
    /// </summary>
    public static string? Mismatch(ModelConfig model, IReadOnlyList<TransformSpec> validation)
    {
        if (!model.HasEncoder || model.EncoderWeights is null || HasBundledWeights(model.Encoder)) return null;
        var normalize = validation.OfType<NormalizeSpec>().ToList();
        static bool Close(double[] values, double[] expected) =>
            values.Length == expected.Length && values.Zip(expected).All(p => Math.Abs(p.First - p.Second) < 1e-3);
        if (normalize.Count == 1 && Close(normalize[0].Mean, ImageNetMean) && Close(normalize[0].Std, ImageNetStd)) return null;
        string found = normalize.Count == 0 ? "no normalize step" : string.Join(" then ", normalize.Select(n =>
            $"mean [{string.Join(", ", n.Mean)}] std [{string.Join(", ", n.Std)}]"));
        return $"warning: model.encoder_weights are torchvision ImageNet weights, trained on pixels normalised by mean [0.485, 0.456, 0.406] " +
            $"std [0.229, 0.224, 0.225], but transforms.val has {found}. Use {{ name: normalize, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, " +
            "0.225] } in transforms.train and transforms.val unless the difference is meant.";
    }
}
