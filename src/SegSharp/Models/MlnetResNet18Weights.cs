using System.Runtime.InteropServices;
using Onnx;
using SegSharp.Configuration;
using static TorchSharp.torch;

namespace SegSharp.Models;

/// <summary>
/// Loads the ImageNet-pretrained ResNet-18 that ML.NET ships as ONNX (NuGet Microsoft.ML.DnnImageFeaturizer.ResNet18
/// 0.23.1, MIT; produced by CNTK 2.6) into a <see cref="ResNetEncoder"/> of kind mlnet-resnet18. Weights are found by
/// the graph's structure, not by their names (Parameter91, Constant98...): the stem is the first convolution; every
/// residual Add joins a body of two convolutions (each followed by batch norm) and either the block's input or a
/// one-convolution projection; blocks fall into stages of 2, 2, 2 and 3 in graph order. Each convolution's geometry
/// is checked against the encoder's (kernel, stride), the stem's input channels are turned from the file's BGR
/// order into RGB, and anything unexpected is an error naming the node.
/// </summary>
/// <remarks>
/// CNTK pads the stride-2 convolutions and the max pool on the top/left only (pads [1, 1, 0, 0]; the stem [3, 3, 2, 2]).
/// Window k of a stride-2 layer starts at 2k − 1 either way; the symmetric padding of the encoder differs only in
/// whether an extra last row exists for odd sizes. SegSharp pads every input to a multiple of 16, so every stride-2
/// layer sees even sizes and the results are identical (tested against ONNX Runtime on the original file).
/// </remarks>
public static class MlnetResNet18Weights
{
    /// <summary>Where the build copies the package's ResNet18.onnx (next to SegSharp's assembly).</summary>
    public static string BundledPath => Path.Combine(AppContext.BaseDirectory, "pretrained", "mlnet-resnet18.onnx");

    /// <summary>The keyword of <c>model.encoder_weights</c> that means <see cref="BundledPath"/>.</summary>
    public const string PretrainedKeyword = "pretrained";

    /// <summary>Copies the file's weights into <paramref name="encoder"/> (built with kind mlnet-resnet18).</summary>
    public static void LoadInto(ResNetEncoder encoder, string path)
    {
        if (!File.Exists(path))
            throw new SegSharpException(path == BundledPath
                ? $"ML.NET's pretrained ResNet-18 is not at '{path}'. It comes from the NuGet package Microsoft.ML.DnnImageFeaturizer.ResNet18 0.23.1: " +
                  "run 'dotnet restore' (with the package source reachable) and build again."
                : $"Encoder weights '{path}' do not exist; set model.encoder_weights: {PretrainedKeyword} for the bundled file.");
        ModelProto model;
        try
        {
            model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
        }
        catch (Google.Protobuf.InvalidProtocolBufferException e)
        {
            throw new SegSharpException($"Encoder weights '{path}' are not an ONNX file ({e.Message}).");
        }
        var weights = KeyedWeights(model.Graph, path);
        var state = encoder.state_dict();
        var missing = state.Keys.Where(k => !k.EndsWith("num_batches_tracked", StringComparison.Ordinal) && !weights.ContainsKey(k)).ToList();
        if (missing.Count > 0)
            throw new SegSharpException($"Encoder weights '{path}' do not fill the mlnet-resnet18 encoder: missing {string.Join(", ", missing.Take(5))}.");
        using var noGrad = no_grad();
        foreach (var (key, value) in weights)
        {
            if (!state.TryGetValue(key, out var target))
                throw new SegSharpException($"Encoder weights '{path}': {key} has no place in the encoder; is the model encoder mlnet-resnet18?");
            using var source = tensor(value.Values, value.Shape);
            // A stem of other than 3 inputs (an N-band dataset) takes the RGB kernels by the documented rule.
            using var adapted = key == StemWeight && target.shape[1] != value.Shape[1] && target.shape.Length == 4 && value.Shape.Length == 4
                ? TorchvisionResNet.AdaptInputChannels(source, target.shape[1])
                : source.alias();
            if (!target.shape.SequenceEqual(adapted.shape))
                throw new SegSharpException($"Encoder weights '{path}': {key} is [{string.Join(", ", value.Shape)}] in the file but " +
                    $"[{string.Join(", ", target.shape)}] in the encoder.");
            target.copy_(adapted);
        }
    }

    private const string StemWeight = "_stem.0.weight";

    private sealed record Weight(float[] Values, long[] Shape);

    /// <summary>The file's tensors under the encoder's state-dict keys.</summary>
    private static Dictionary<string, Weight> KeyedWeights(GraphProto graph, string path)
    {
        var initializers = graph.Initializer.ToDictionary(t => t.Name);
        var producers = new Dictionary<string, NodeProto>();
        foreach (var node in graph.Node) foreach (var output in node.Output) producers[output] = node;
        var result = new Dictionary<string, Weight>();

        Weight Read(string name) => initializers.TryGetValue(name, out var t)
            ? new Weight(Values(t), t.Dims.ToArray())
            : throw new SegSharpException($"Encoder weights '{path}': '{name}' is not a stored tensor; the file is not ML.NET's ResNet-18.");
        NodeProto? Producer(string value, string op) => producers.TryGetValue(value, out var n) && n.OpType == op ? n : null;

        void Add(string prefix, NodeProto conv, NodeProto norm, bool reverseInputChannels = false)
        {
            var weight = Read(conv.Input[1]);
            result[$"{prefix}.weight"] = reverseInputChannels ? ReverseInputChannels(weight) : weight;
            var prefixNorm = NormPrefix(prefix);
            result[$"{prefixNorm}.weight"] = Read(norm.Input[1]);
            result[$"{prefixNorm}.bias"] = Read(norm.Input[2]);
            result[$"{prefixNorm}.running_mean"] = Read(norm.Input[3]);
            result[$"{prefixNorm}.running_var"] = Read(norm.Input[4]);
        }

        // A value computed as BatchNormalization(Conv(x)): the pair, or null.
        (NodeProto Conv, NodeProto Norm)? ConvNorm(string value) =>
            Producer(value, "BatchNormalization") is { } norm && Producer(norm.Input[0], "Conv") is { } conv ? (conv, norm) : null;

        var stem = graph.Node.FirstOrDefault(n => n.OpType == "Conv")
            ?? throw new SegSharpException($"Encoder weights '{path}' hold no convolution; the file is not ML.NET's ResNet-18.");
        var stemNorm = graph.Node.FirstOrDefault(n => n.OpType == "BatchNormalization" && n.Input[0] == stem.Output[0])
            ?? throw new SegSharpException($"Encoder weights '{path}': the first convolution has no batch norm after it.");
        Expect(stem, 7, 2, path);
        Add("_stem.0", stem, stemNorm, reverseInputChannels: true);

        var (blocks, _) = ResNetEncoder.Layout(EncoderKind.MlnetResNet18);
        var adds = graph.Node.Where(n => n.OpType == "Add").ToList();
        if (adds.Count != blocks.Sum())
            throw new SegSharpException($"Encoder weights '{path}' have {adds.Count} residual blocks; ML.NET's ResNet-18 has {blocks.Sum()} (2, 2, 2, 3).");
        int index = 0;
        for (int stage = 0; stage < blocks.Length; stage++)
        {
            for (int block = 0; block < blocks[stage]; block++, index++)
            {
                var add = adds[index];
                string prefix = $"_layer{stage + 1}.{block}";
                // The body ends in BN(Conv(ReLU(BN(Conv(x))))); the other input is x itself or BN(Conv(x)).
                (NodeProto Conv, NodeProto Norm, NodeProto FirstConv, NodeProto FirstNorm)? Body(string value) =>
                    ConvNorm(value) is { } second && Producer(second.Conv.Input[0], "Relu") is { } relu && ConvNorm(relu.Input[0]) is { } first
                        ? (second.Conv, second.Norm, first.Conv, first.Norm) : null;
                var first = Body(add.Input[0]);
                var body = first ?? Body(add.Input[1])
                    ?? throw new SegSharpException($"Encoder weights '{path}': residual node {add.Name} does not join a two-convolution body.");
                string other = first is not null ? add.Input[1] : add.Input[0];
                bool projects = ResNetEncoder.HasShortcut(EncoderKind.MlnetResNet18, stage) && block == 0;
                int stride = stage > 0 && block == 0 ? 2 : 1;
                Expect(body.FirstConv, 3, stride, path);
                Expect(body.Conv, 3, 1, path);
                Add($"{prefix}._body.0", body.FirstConv, body.FirstNorm);
                Add($"{prefix}._body.3", body.Conv, body.Norm);
                if (projects)
                {
                    var shortcut = ConvNorm(other)
                        ?? throw new SegSharpException($"Encoder weights '{path}': block {prefix} should project its shortcut and does not.");
                    Expect(shortcut.Conv, 1, stride, path);
                    Add($"{prefix}._shortcut.0", shortcut.Conv, shortcut.Norm);
                }
                else if (ConvNorm(other) is not null)
                    throw new SegSharpException($"Encoder weights '{path}': block {prefix} projects its shortcut where ResNet-18 does not.");
            }
        }
        return result;
    }

    /// <summary>ResNet's conv → norm pairs: body.0 → body.1, body.3 → body.4, shortcut.0 → shortcut.1, stem.0 → stem.1.</summary>
    private static string NormPrefix(string convPrefix)
    {
        int dot = convPrefix.LastIndexOf('.');
        return $"{convPrefix[..dot]}.{int.Parse(convPrefix[(dot + 1)..], System.Globalization.CultureInfo.InvariantCulture) + 1}";
    }

    private static void Expect(NodeProto conv, int kernel, int stride, string path)
    {
        var attributes = conv.Attribute.ToDictionary(a => a.Name);
        bool ok = attributes.TryGetValue("kernel_shape", out var k) && k.Ints.All(v => v == kernel)
            && (attributes.TryGetValue("strides", out var s) ? s.Ints.All(v => v == stride) : stride == 1)
            && (!attributes.TryGetValue("group", out var g) || g.I == 1) && (!attributes.TryGetValue("dilations", out var d) || d.Ints.All(v => v == 1));
        if (!ok)
            throw new SegSharpException($"Encoder weights '{path}': convolution {conv.Name} is not the {kernel}x{kernel} stride-{stride} one ResNet-18 " +
                "has there; the file is not ML.NET's ResNet-18.");
    }

    private static float[] Values(TensorProto tensor)
    {
        if (tensor.DataType != (int)TensorProto.Types.DataType.Float)
            throw new SegSharpException($"Tensor {tensor.Name} is of ONNX type {tensor.DataType}, not float32.");
        return tensor.RawData.Length > 0 ? MemoryMarshal.Cast<byte, float>(tensor.RawData.Span).ToArray() : tensor.FloatData.ToArray();
    }

    /// <summary>The stem's input channels in reverse order: the file's B, G, R becomes R, G, B.</summary>
    private static Weight ReverseInputChannels(Weight weight)
    {
        long outputs = weight.Shape[0], inputs = weight.Shape[1], plane = weight.Shape[2] * weight.Shape[3];
        var values = new float[weight.Values.Length];
        for (long o = 0; o < outputs; o++)
            for (long i = 0; i < inputs; i++)
                Array.Copy(weight.Values, (o * inputs + i) * plane, values, (o * inputs + (inputs - 1 - i)) * plane, plane);
        return weight with { Values = values };
    }
}
