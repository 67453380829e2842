namespace SegSharp.Configuration;

/// <summary>Which network to build and its shape. Input channels and class count come from the dataset.</summary>
public sealed record ModelConfig
{
    public static readonly string[] Names = { "unet", "deeplabv3plus" };

    public required string Name { get; init; }

    /// <summary>U-Net: number of 2x downsamplings.</summary>
    public required int Depth { get; init; }

    /// <summary>U-Net: channels of the first level, doubled per level.</summary>
    public required int Width { get; init; }

    /// <summary>batch, group or none.</summary>
    public required string Norm { get; init; }

    /// <summary>U-Net: transpose (learned 2x2 transposed conv) or bilinear (+ 1x1 conv).</summary>
    public required string Upsampling { get; init; }

    /// <summary>DeepLabV3+: resnet18, resnet34 or resnet50.</summary>
    public required string Encoder { get; init; }

    /// <summary>pad: pad inputs to the model's stride and crop the output back; strict: fail before the forward pass.</summary>
    public required string InputPolicy { get; init; }

    internal static ModelConfig Read(ConfigSection s) => new()
    {
        Name = s.GetString("name", "unet", Names),
        Depth = s.GetInt("depth", 4, 1, 7),
        Width = s.GetInt("width", 32, 1, 1024),
        Norm = s.GetString("norm", "batch", "batch", "group", "none"),
        Upsampling = s.GetString("upsampling", "transpose", "transpose", "bilinear"),
        Encoder = s.GetString("encoder", "resnet34", "resnet18", "resnet34", "resnet50"),
        InputPolicy = s.GetString("input_policy", "pad", "pad", "strict"),
    };
}
