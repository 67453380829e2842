using SegSharp.Configuration;
using SegSharp.Data;

namespace SegSharp.Models;

/// <summary>
/// Everything inference needs besides the weights, carried inside every checkpoint so a model file predicts on
/// its own: the architecture, the input channels, the classes with their mask values and colours, the ignore
/// index, the normalisation images get before the forward pass, and the SegSharp version that wrote it.
/// The training dataset is never opened to predict.
/// </summary>
public sealed record ModelCard
{
    /// <summary>Bumped when a field changes meaning; readers refuse newer formats with a message.</summary>
    public const int CurrentFormat = 1;

    public int Format { get; init; } = CurrentFormat;
    public required string SegSharpVersion { get; init; }
    public required ModelConfig Model { get; init; }

    /// <summary>1 (grayscale) or 3 (RGB): images are converted to this before the forward pass.</summary>
    public required int InputChannels { get; init; }

    /// <summary>The classes in logit order: name, mask value (or packed 0xRRGGBB), display colour.</summary>
    public required IReadOnlyList<ModelCardClass> Classes { get; init; }
    public required MaskEncoding MaskEncoding { get; init; }

    /// <summary>The class index that marks unlabelled pixels in masks.</summary>
    public required int IgnoreIndex { get; init; }

    /// <summary>The image-only steps (normalize) every input gets before the forward pass, in order.</summary>
    public required IReadOnlyList<TransformConfig> Preprocessing { get; init; }

    /// <summary>Input sides are padded to (or, with input_policy strict, must be) multiples of this.</summary>
    public required int Stride { get; init; }

    /// <summary>The name of the dataset the model was trained on (for reports; the files are not needed).</summary>
    public required string TrainedOn { get; init; }

    public int ClassCount => Classes.Count;

    /// <summary>The card of a model built from <paramref name="config"/> for <paramref name="dataset"/>.</summary>
    public static ModelCard Describe(SegSharpConfig config, DatasetDescription dataset, int stride, string version) => new()
    {
        SegSharpVersion = version, Model = config.Model, InputChannels = dataset.Channels,
        Classes = dataset.Classes.Select(c => new ModelCardClass(c.Name, c.Value, c.Color.Select(b => (int)b).ToArray())).ToList(),
        MaskEncoding = dataset.MaskEncoding, IgnoreIndex = dataset.IgnoreIndex,
        Preprocessing = config.ValidationTransforms.Where(t => t.Kind == TransformKind.Normalize).ToList(),
        Stride = stride, TrainedOn = dataset.Name,
    };

    /// <summary>The classes as the data stage knows them (index = logit channel).</summary>
    public IReadOnlyList<ClassInfo> ClassInfos() =>
        Classes.Select((c, i) => new ClassInfo(i, c.Name, c.Value, c.Color.Select(v => (byte)v).ToArray())).ToList();
}
