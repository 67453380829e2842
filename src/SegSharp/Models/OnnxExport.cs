using System.Text.Json;
using Google.Protobuf;
using Onnx;
using SegSharp.Foundation;
using static TorchSharp.torch;

namespace SegSharp.Models;

/// <summary>
/// Writes a model as a self-describing ONNX file: opset 17 (IR 8), one float32 input <c>image</c> [batch, channels,
/// height, width] with batch, height and width dynamic, outputs <c>logits</c> [batch, classes, height, width] float32 and
/// <c>labels</c> [batch, height, width] int64 (the argmax; for multilabel models the bits of the classes whose sigmoid
/// exceeds the threshold, <see cref="Data.LabelBits"/>). Padding to the model's stride and cropping back are in the
/// graph (input_policy pad). The file's metadata_props carry the model card (classes, colours, mask encoding,
/// normalisation, stride), so a reader needs nothing else; keys are listed in <see cref="MetadataKeys"/>.
/// </summary>
public static class OnnxExport
{
    public const int Opset = 17;
    public const int IrVersion = 8;

    /// <summary>The metadata_props keys SegSharp writes.</summary>
    public static class MetadataKeys
    {
        /// <summary>The whole <see cref="ModelCard"/> as JSON (snake_case): what SegSharp's ONNX predictor reads.</summary>
        public const string ModelCard = "segsharp.model_card";

        /// <summary>The evaluation settings the model was trained with (tile size, overlap, flip TTA) as JSON.</summary>
        public const string Evaluation = "segsharp.evaluation";
        public const string Version = "segsharp.version";

        /// <summary>Class names in logit order, JSON array.</summary>
        public const string Classes = "segsharp.classes";

        /// <summary>Display colours [r, g, b] in logit order, JSON array.</summary>
        public const string Colors = "segsharp.colors";

        /// <summary>What the input must be: value range, channel order and normalisation, in words.</summary>
        public const string Input = "segsharp.input";

        /// <summary>Per-channel mean and std applied after scaling pixels to 0..1, JSON; {} when none.</summary>
        public const string Normalize = "segsharp.normalize";

        /// <summary>multiclass (softmax, labels = argmax) or multilabel (a sigmoid per class; labels = bits over the threshold).</summary>
        public const string Task = "segsharp.task";

        /// <summary>Multilabel only: the probability above which a class is present.</summary>
        public const string Threshold = "segsharp.threshold";

        /// <summary>The model's total stride: with input_policy strict, sides must be multiples of it.</summary>
        public const string Stride = "segsharp.stride";
        public const string InputPolicy = "segsharp.input_policy";
    }

    /// <summary>
    /// Writes <paramref name="model"/> (eval mode, float32) to <paramref name="path"/> atomically.
    /// <paramref name="evaluationJson"/> is stored as is under <see cref="MetadataKeys.Evaluation"/>.
    /// </summary>
    public static void Write(SegmentationModel model, ModelCard card, string evaluationJson, string path)
    {
        var proto = Build(model, card, evaluationJson);
        AtomicFile.Write(path, stream => proto.WriteTo(stream));
    }

    internal static ModelProto Build(SegmentationModel model, ModelCard card, string evaluationJson)
    {
        model.eval();
        var names = model.state_dict().ToDictionary(kv => kv.Value.Handle, kv => kv.Key);
        var graph = new OnnxGraph(card.Model.Kind.ToString(), names);
        string logits = model.AddTo(graph, "image");
        card.Decision.AddLabels(graph, logits, model.Classes);
        graph.Proto.Node[^1].Output[0] = "labels";
        RenameOutput(graph.Proto, logits, "logits");
        graph.Proto.Input.Add(Value("image", TensorProto.Types.DataType.Float, "batch", model.InputChannels, "height", "width"));
        graph.Proto.Output.Add(Value("logits", TensorProto.Types.DataType.Float, "batch", model.Classes, "height", "width"));
        graph.Proto.Output.Add(Value("labels", TensorProto.Types.DataType.Int64, "batch", "height", "width"));
        var proto = new ModelProto
        {
            IrVersion = IrVersion, ProducerName = "SegSharp", ProducerVersion = card.SegSharpVersion, Graph = graph.Proto,
            DocString = $"SegSharp {card.Model.Kind} for {card.ClassCount} classes, trained on {card.TrainedOn}. Input 'image' float32 " +
                "[batch, channels, height, width]; outputs 'logits' [batch, classes, height, width] and 'labels' (" +
                (card.Decision.MultiLabel ? $"bit c set where sigmoid(logit c) > {card.Threshold}" : "argmax") + "). See metadata_props.",
        };
        proto.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        foreach (var (key, value) in Metadata(model, card, evaluationJson))
            proto.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });
        return proto;
    }

    private static IEnumerable<(string, string)> Metadata(SegmentationModel model, ModelCard card, string evaluationJson)
    {
        var normalize = card.Preprocessing.OfType<Configuration.NormalizeSpec>().LastOrDefault();
        yield return (MetadataKeys.ModelCard, JsonSerializer.Serialize(card, JsonFormats.Compact));
        yield return (MetadataKeys.Evaluation, evaluationJson);
        yield return (MetadataKeys.Version, card.SegSharpVersion);
        yield return (MetadataKeys.Classes, JsonSerializer.Serialize(card.Classes.Select(c => c.Name)));
        yield return (MetadataKeys.Colors, JsonSerializer.Serialize(card.Classes.Select(c => c.Color)));
        yield return (MetadataKeys.Normalize, normalize is null ? "{}" : JsonSerializer.Serialize(new { mean = normalize.Mean, std = normalize.Std }));
        yield return (MetadataKeys.Input, $"{card.InputChannels switch { 1 => "grayscale", 3 => "RGB", int n => $"{n}-band" }} pixels scaled to 0..1 " +
            (normalize is null ? "(no normalisation)" : $"then (x - mean) / std per channel with {MetadataKeys.Normalize}") + ", float32 NCHW");
        yield return (MetadataKeys.Task, Foundation.OptionNames<Data.SegmentationTask>.Name(card.Task));
        if (card.Decision.MultiLabel) yield return (MetadataKeys.Threshold, card.Threshold.ToString(System.Globalization.CultureInfo.InvariantCulture));
        yield return (MetadataKeys.Stride, model.Stride.ToString(System.Globalization.CultureInfo.InvariantCulture));
        yield return (MetadataKeys.InputPolicy, model.PadInputs ? "pad" : "strict");
    }

    private static void RenameOutput(GraphProto graph, string from, string to)
    {
        foreach (var node in graph.Node)
        {
            for (int i = 0; i < node.Output.Count; i++) if (node.Output[i] == from) node.Output[i] = to;
            for (int i = 0; i < node.Input.Count; i++) if (node.Input[i] == from) node.Input[i] = to;
        }
    }

    private static ValueInfoProto Value(string name, TensorProto.Types.DataType type, params object[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var dim in dims)
            shape.Dim.Add(dim is string symbol ? new TensorShapeProto.Types.Dimension { DimParam = symbol }
                : new TensorShapeProto.Types.Dimension { DimValue = Convert.ToInt64(dim, System.Globalization.CultureInfo.InvariantCulture) });
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape } } };
    }
}
