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
    /// <summary>
    /// Bumped when a field changes meaning; readers refuse newer formats with a message and upgrade older ones
    /// (<see cref="Upgraded"/>). Format 2: a U-Net's <c>model.encoder</c> means what it says (format 1 U-Nets had none).
    /// </summary>
    public const int CurrentFormat = 2;

    public int Format { get; init; } = CurrentFormat;
    public required string SegSharpVersion { get; init; }
    public required ModelConfig Model { get; init; }

    /// <summary>Bands per image: 1 (grayscale) or 3 (RGB), converted before the forward pass, or N read as stored (the dataset's channels).</summary>
    public required int InputChannels { get; init; }

    /// <summary>The classes in logit order: name, mask value (or packed 0xRRGGBB), display colour.</summary>
    public required IReadOnlyList<ModelCardClass> Classes { get; init; }
    public required MaskEncoding MaskEncoding { get; init; }

    /// <summary>The class index that marks unlabelled pixels in masks.</summary>
    public required int IgnoreIndex { get; init; }

    /// <summary>Multiclass or multilabel (absent in cards written before multilabel existed: multiclass).</summary>
    public SegmentationTask Task { get; init; } = SegmentationTask.Multiclass;

    /// <summary>Multilabel: the probability above which a class is present (evaluation.threshold).</summary>
    public double Threshold { get; init; } = 0.5;

    /// <summary>How this model's logits become probabilities and labels.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public ClassDecision Decision => new(Task, Threshold);

    /// <summary>The image-only steps (normalize) every input gets before the forward pass, in order.</summary>
    public required IReadOnlyList<TransformSpec> Preprocessing { get; init; }

    /// <summary>Input sides are padded to (or, with input_policy strict, must be) multiples of this.</summary>
    public required int Stride { get; init; }

    /// <summary>The name of the dataset the model was trained on (for reports; the files are not needed).</summary>
    public required string TrainedOn { get; init; }

    public int ClassCount => Classes.Count;

    /// <summary>This card in the current format: a format-1 U-Net had no encoder, whatever its model.encoder said.</summary>
    public ModelCard Upgraded() => Format >= 2 || Model is null ? this : this with
    {
        Format = CurrentFormat, Model = Model.Kind == ModelKind.UNet ? Model with { Encoder = EncoderKind.None } : Model,
    };

    /// <summary>The card of a model built from <paramref name="config"/> for <paramref name="dataset"/>.</summary>
    public static ModelCard Describe(SegSharpConfig config, DatasetDescription dataset, int stride, string version) => new()
    {
        SegSharpVersion = version, Model = config.Model, InputChannels = dataset.Channels,
        Classes = dataset.Classes.Select(c => new ModelCardClass(c.Name, c.Value, c.Color.Select(b => (int)b).ToArray())).ToList(),
        MaskEncoding = dataset.MaskEncoding, IgnoreIndex = dataset.IgnoreIndex,
        Preprocessing = config.ValidationTransforms.OfType<NormalizeSpec>().ToList<TransformSpec>(),
        Stride = stride, TrainedOn = dataset.Name, Task = dataset.Task, Threshold = config.Evaluation.Threshold,
    };

    /// <summary>Most input channels and classes a card may name (far above any real model; a guard against edited files).</summary>
    public const int MaxInputChannels = Data.DatasetDescription.MaxChannels, MaxClasses = 4096;

    /// <summary>
    /// Refuses a card whose fields are out of range before anything is built from it: a damaged or edited file must not
    /// make SegSharp allocate without bound (a width of 4096 in a 36 KB checkpoint) or fail later with a trace.
    /// </summary>
    /// <param name="file">The checkpoint or ONNX file, for the message.</param>
    public void Check(string file)
    {
        void Require(bool ok, string field, object? value, string allowed)
        {
            if (!ok)
                throw new SegSharpException($"Model file '{file}' has a model card with {field} {value ?? "(missing)"}, outside {allowed}; the file is " +
                    "damaged or was edited. Use the file training wrote (or export it again).");
        }
        Require(Format >= 1 && Format <= CurrentFormat, "format", Format, $"1..{CurrentFormat} (a newer SegSharp wrote it? update SegSharp)");
        Require(Model is not null, "model", null, "a model section");
        Require(Enum.IsDefined(Model!.Kind), "model.name", Model.Kind, "the known architectures");
        Require(Model.Depth >= 1 && Model.Depth <= ModelConfig.MaxDepth, "model.depth", Model.Depth, $"1..{ModelConfig.MaxDepth}");
        Require(Model.Width >= 1 && Model.Width <= ModelConfig.MaxWidth, "model.width", Model.Width, $"1..{ModelConfig.MaxWidth}");
        Require(Enum.IsDefined(Model.Encoder) && Enum.IsDefined(Model.Norm) && Enum.IsDefined(Model.Upsampling) && Enum.IsDefined(Model.InputPolicy),
            "model.encoder/norm/upsampling/input_policy", $"{Model.Encoder}/{Model.Norm}/{Model.Upsampling}/{Model.InputPolicy}", "the known values");
        Require(InputChannels >= 1 && InputChannels <= MaxInputChannels, "input_channels", InputChannels, $"1..{MaxInputChannels}");
        Require(Classes is { Count: >= 1 and <= MaxClasses }, "classes", Classes?.Count, $"1..{MaxClasses} classes");
        foreach (var c in Classes!)
            Require(c is { Name: not null, Color: { Length: 3 } } && c.Color.All(v => v is >= 0 and <= 255), "class", c?.Name,
                "a name and an RGB colour 0..255");
        int maxStride = 1 << ModelConfig.MaxDepth;
        Require(Stride >= 1 && Stride <= maxStride && (Stride & (Stride - 1)) == 0, "stride", Stride, $"a power of two up to {maxStride}");
        Require(Preprocessing is { Count: <= 16 } && Preprocessing.All(t => t is NormalizeSpec n && n.Mean.Length <= MaxInputChannels && n.Std.All(v => v > 0)),
            "preprocessing", Preprocessing?.Count, "normalize steps with positive std");
        Require(Enum.IsDefined(MaskEncoding), "mask_encoding", MaskEncoding, "index, values, rgb or palette");
        Require(Enum.IsDefined(Task) && (Task == SegmentationTask.Multiclass || Classes.Count <= LabelBits.MaxClasses), "task", Task,
            $"multiclass, or multilabel with at most {LabelBits.MaxClasses} classes");
        Require(Threshold > 0 && Threshold < 1, "threshold", Threshold, "0..1 (exclusive)");
    }

    /// <summary>The classes as the data stage knows them (index = logit channel).</summary>
    public IReadOnlyList<ClassInfo> ClassInfos() =>
        Classes.Select((c, i) => new ClassInfo(i, c.Name, c.Value, c.Color.Select(v => (byte)v).ToArray())).ToList();
}
