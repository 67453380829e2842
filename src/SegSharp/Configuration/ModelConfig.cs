namespace SegSharp.Configuration;

/// <summary>Which network to build and its shape. Input channels and class count come from the dataset.</summary>
public sealed record ModelConfig
{
    public required ModelKind Kind { get; init; }

    /// <summary>U-Net: number of 2x downsamplings.</summary>
    public required int Depth { get; init; }

    /// <summary>U-Net: channels of the first level, doubled per level.</summary>
    public required int Width { get; init; }

    public required NormKind Norm { get; init; }

    /// <summary>U-Net only.</summary>
    public required UpsamplingKind Upsampling { get; init; }

    /// <summary>
    /// The backbone: required by deeplabv3plus and fpn (default resnet34); for unet <see cref="EncoderKind.None"/> (the
    /// default) is the classic U-Net and a ResNet makes it the encoder U-Net.
    /// </summary>
    public required EncoderKind Encoder { get; init; }

    /// <summary>Whether the model is built on an encoder (and so takes encoder_weights, freeze_encoder_norm, encoder_lr_factor).</summary>
    public bool HasEncoder => Encoder != EncoderKind.None;

    /// <summary>Whether models of <paramref name="kind"/> need an encoder (unet may have one or not).</summary>
    public static bool NeedsEncoder(ModelKind kind) => kind switch
    {
        ModelKind.UNet => false,
        ModelKind.DeepLabV3Plus or ModelKind.Fpn or ModelKind.LinkNet => true,
    };

    /// <summary>For messages: which models take an encoder.</summary>
    public const string EncoderModels = "deeplabv3plus, fpn, linknet, or unet with model.encoder set";

    public required InputPolicy InputPolicy { get; init; }

    /// <summary>A safetensors or PyTorch state dict of this same model to start training from (absolute path), or null.</summary>
    public string? InitWeights { get; init; }

    /// <summary>
    /// DeepLabV3+ with batch norm: a torchvision ResNet state dict (resnet18/34/50, matching <see cref="Encoder"/>) for the
    /// encoder, loaded through an explicit key map (fc.* unused); with encoder mlnet-resnet18, <see cref="PretrainedWeights"/>
    /// (ML.NET's ImageNet weights, bundled) or a path to that ONNX file; or null.
    /// </summary>
    public string? EncoderWeights { get; init; }

    /// <summary>Models with an encoder: keep the encoder's batch-norm statistics as loaded (eval mode) while training, as fine-tuning recipes do.</summary>
    public bool FreezeEncoderNorm { get; init; }

    /// <summary>The ranges a config (and so a model card) may hold.</summary>
    public const int MaxDepth = 7, MaxWidth = 1024;

    /// <summary>The <c>encoder_weights</c> keyword for the bundled ML.NET ResNet-18.</summary>
    public const string PretrainedWeights = "pretrained";

    internal static ModelConfig Read(ConfigSection s, string baseDirectory)
    {
        var config = ReadFields(s, baseDirectory);
        if (config.Encoder == EncoderKind.None && NeedsEncoder(config.Kind))
            throw s.Error("encoder", "none", $"an encoder for name: {Foundation.OptionNames<ModelKind>.Name(config.Kind)} " +
                "(resnet18, resnet34, resnet50 or mlnet-resnet18)");
        if (config.EncoderWeights is not null && (!config.HasEncoder || config.Norm != NormKind.Batch))
            throw s.Error("encoder_weights", config.EncoderWeights, $"a torchvision ResNet file only with name: {EncoderModels} and norm: batch");
        if (config.EncoderWeights == PretrainedWeights && !EncoderInput.HasBundledWeights(config.Encoder))
            throw s.Error("encoder_weights", PretrainedWeights, $"'{PretrainedWeights}' only with encoder: mlnet-resnet18 (the one pretrained encoder " +
                "available offline), or a torchvision state-dict file for resnet18/34/50");
        if (config.FreezeEncoderNorm && (!config.HasEncoder || config.Norm != NormKind.Batch))
            throw s.Error("freeze_encoder_norm", "true", $"true only with name: {EncoderModels} and norm: batch");
        return config;
    }

    private static ModelConfig ReadFields(ConfigSection s, string baseDirectory) => new()
    {
        Kind = s.GetEnum("name", ModelKind.UNet),
        Depth = s.GetInt("depth", 4, 1, MaxDepth),
        Width = s.GetInt("width", 32, 1, MaxWidth),
        Norm = s.GetEnum("norm", NormKind.Batch),
        Upsampling = s.GetEnum("upsampling", UpsamplingKind.Transpose),
        Encoder = s.GetEnum("encoder", s.GetEnum("name", ModelKind.UNet) == ModelKind.UNet ? EncoderKind.None : EncoderKind.ResNet34),
        InputPolicy = s.GetEnum("input_policy", InputPolicy.Pad),
        InitWeights = ReadPath(s, "init_weights", baseDirectory),
        EncoderWeights = ReadPath(s, "encoder_weights", baseDirectory, keyword: PretrainedWeights),
        FreezeEncoderNorm = s.GetBool("freeze_encoder_norm", false),
    };

    /// <summary>
    /// An optional file path, made absolute against the config's folder (and recorded so); <paramref name="keyword"/>,
    /// when given, is kept as it is instead of being read as a path.
    /// </summary>
    private static string? ReadPath(ConfigSection s, string key, string baseDirectory, string? keyword = null)
    {
        string? path = s.GetOptionalString(key);
        if (path is null || path == keyword) return path;
        path = Path.GetFullPath(Path.Combine(baseDirectory, path));
        s.RecordEffective(key, path);
        return path;
    }
}
