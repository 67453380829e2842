// Over 250 lines: one graph rewrite (fold, choose, calibrate outputs, insert QDQ) whose steps share the graph indexes.
using System.Runtime.InteropServices;
using Google.Protobuf;
using Onnx;

namespace SegSharp.Models;

/// <summary>
/// Static INT8 quantisation of an exported SegSharp ONNX model in the QDQ format ONNX Runtime fuses into integer kernels
/// (QLinearConv), written by SegSharp's own ONNX code:
/// <list type="number">
/// <item>Batch norms that directly follow a convolution are folded into its weights and bias (W·s, (b - mean)·s + beta,
/// s = gamma / sqrt(var + eps)), as inference would compute them.</item>
/// <item>Every <c>Conv</c> is quantised except the stem (the first) and the head (the last), which stay float, as does
/// everything after the head (the final resize, the labels). Transposed convolutions, resizes, pools, additions and
/// concatenations stay float and read dequantised values.</item>
/// <item>Weights: int8, symmetric, per output channel (scale = max|w| / 127). Biases: int32 with scale = input scale x
/// weight scale. Activations (each quantised convolution's input and its output, after its ReLU where one follows):
/// uint8, asymmetric, the range [min(lo, 0), max(hi, 0)] calibrated by ONNX Runtime runs.</item>
/// </list>
/// A tensor is quantised once (QuantizeLinear then DequantizeLinear) and all its readers take the dequantised value, so
/// the float and integer kernels see the same numbers.
/// </summary>
internal static class OnnxQuantization
{
    /// <summary>Metadata key of the INT8 file: what was quantised and how (JSON).</summary>
    public const string MetadataKey = "segsharp.quantization";

    /// <summary>The float model with batch norms folded, the convolutions to quantise and the activations to calibrate.</summary>
    public sealed record Plan(ModelProto Float, IReadOnlyList<string> Convolutions, IReadOnlyList<string> Activations, int FloatConvolutions);

    /// <summary>Folds batch norms into convolutions and chooses what to quantise.</summary>
    public static Plan Prepare(ModelProto model)
    {
        var folded = model.Clone();
        FoldBatchNorms(folded.Graph);
        var graph = folded.Graph;
        var convolutions = graph.Node.Where(n => n.OpType == "Conv").ToList();
        if (convolutions.Count < 3)
            throw new SegSharpException($"The model has {convolutions.Count} convolutions; INT8 quantisation keeps the first and last in float and needs " +
                "at least one more to quantise.");
        var chosen = convolutions.Skip(1).Take(convolutions.Count - 2).ToList();
        var consumers = Consumers(graph);
        var activations = new List<string>();
        foreach (var node in chosen)
        {
            activations.Add(node.Input[0]);
            activations.Add(QuantizedOutput(node, consumers));
        }
        return new Plan(folded, chosen.Select(n => n.Name).ToList(), activations.Distinct(StringComparer.Ordinal).ToList(), convolutions.Count - chosen.Count);
    }

    /// <summary>A copy of <paramref name="model"/> that also outputs <paramref name="names"/> (float tensors of any shape), for calibration.</summary>
    public static ModelProto WithOutputs(ModelProto model, IEnumerable<string> names)
    {
        var copy = model.Clone();
        foreach (string name in names)
        {
            if (copy.Graph.Output.Any(o => o.Name == name)) continue;
            copy.Graph.Output.Add(new ValueInfoProto
            {
                Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float } },
            });
        }
        return copy;
    }

    /// <summary>The QDQ model from a plan and each activation's calibrated range (lowest, highest value seen).</summary>
    public static ModelProto Quantize(Plan plan, IReadOnlyDictionary<string, (float Min, float Max)> ranges)
    {
        var model = plan.Float.Clone();
        var graph = model.Graph;
        var initializers = graph.Initializer.ToDictionary(t => t.Name, StringComparer.Ordinal);
        var activation = new Dictionary<string, (float Scale, byte ZeroPoint)>(StringComparer.Ordinal);
        foreach (string name in plan.Activations)
        {
            if (!ranges.TryGetValue(name, out var range)) throw new InvalidOperationException($"No calibrated range for '{name}'.");
            activation[name] = ActivationParameters(range.Min, range.Max);
        }
        var extra = new List<TensorProto>();
        var nodes = new List<NodeProto>();
        var quantizedConvolutions = plan.Convolutions.ToHashSet(StringComparer.Ordinal);
        // Activation QDQ pairs right after their producer (graph inputs first); readers of the tensor read the dequantised one.
        var dequantised = activation.Keys.ToDictionary(n => n, n => n + "_dq", StringComparer.Ordinal);
        foreach (var input in graph.Input.Where(i => activation.ContainsKey(i.Name))) nodes.AddRange(ActivationPair(input.Name, activation, extra));
        foreach (var node in graph.Node)
        {
            for (int i = 0; i < node.Input.Count; i++)
                if (dequantised.TryGetValue(node.Input[i], out var dq)) node.Input[i] = dq;
            if (quantizedConvolutions.Contains(node.Name)) QuantizeWeights(node, activation[OriginalName(node.Input[0])].Scale, initializers, nodes, extra);
            nodes.Add(node);
            foreach (string output in node.Output)
                if (activation.ContainsKey(output)) nodes.AddRange(ActivationPair(output, activation, extra));
        }
        foreach (var output in graph.Output)
            if (dequantised.ContainsKey(output.Name)) throw new InvalidOperationException($"Graph output '{output.Name}' cannot be quantised.");
        graph.Node.Clear();
        graph.Node.AddRange(nodes);
        graph.Initializer.AddRange(extra);
        // Weights now held as int8 are no longer needed in float.
        var read = graph.Node.SelectMany(n => n.Input).ToHashSet(StringComparer.Ordinal);
        var unused = graph.Initializer.Where(t => !read.Contains(t.Name)).ToList();
        foreach (var tensor in unused) graph.Initializer.Remove(tensor);
        return model;
    }

    private static string OriginalName(string name) => name.EndsWith("_dq", StringComparison.Ordinal) ? name[..^3] : name;

    /// <summary>uint8 asymmetric: the range widened to hold 0, scale = range / 255, zero point = round(-min / scale).</summary>
    public static (float Scale, byte ZeroPoint) ActivationParameters(float min, float max)
    {
        double lo = Math.Min(min, 0), hi = Math.Max(max, 0);
        if (hi - lo < 1e-12) return (1f, 0);
        float scale = (float)((hi - lo) / 255);
        return (scale, (byte)Math.Clamp(Math.Round(-lo / scale), 0, 255));
    }

    /// <summary>QuantizeLinear then DequantizeLinear of <paramref name="name"/> into <c>name_q</c> and <c>name_dq</c>.</summary>
    private static IEnumerable<NodeProto> ActivationPair(string name, Dictionary<string, (float Scale, byte ZeroPoint)> parameters, List<TensorProto> extra)
    {
        var (scale, zeroPoint) = parameters[name];
        string scaleName = Add(extra, name + "_scale", TensorProto.Types.DataType.Float, MemoryMarshal.AsBytes(new[] { scale }.AsSpan()));
        string zeroName = Add(extra, name + "_zero_point", TensorProto.Types.DataType.Uint8, new[] { zeroPoint });
        yield return Node("QuantizeLinear", name + "_QuantizeLinear", new[] { name, scaleName, zeroName }, name + "_q");
        yield return Node("DequantizeLinear", name + "_DequantizeLinear", new[] { name + "_q", scaleName, zeroName }, name + "_dq");
    }

    /// <summary>Replaces the convolution's weight (and bias) by int8 (int32) initializers read through DequantizeLinear, per output channel.</summary>
    private static void QuantizeWeights(NodeProto conv, float inputScale, Dictionary<string, TensorProto> initializers, List<NodeProto> nodes,
        List<TensorProto> extra)
    {
        var weight = initializers[conv.Input[1]];
        var values = Floats(weight);
        int outputs = (int)weight.Dims[0], per = values.Length / outputs;
        var scales = new float[outputs];
        var quantized = new sbyte[values.Length];
        for (int o = 0; o < outputs; o++)
        {
            float peak = 0;
            for (int i = 0; i < per; i++) peak = Math.Max(peak, Math.Abs(values[o * per + i]));
            scales[o] = peak > 0 ? peak / 127 : 1f;
            for (int i = 0; i < per; i++) quantized[o * per + i] = (sbyte)Math.Clamp(Math.Round(values[o * per + i] / scales[o]), -127, 127);
        }
        string name = conv.Name + "_weight";
        string q = Add(extra, name + "_quantized", TensorProto.Types.DataType.Int8, MemoryMarshal.AsBytes(quantized.AsSpan()), weight.Dims.ToArray());
        string s = Add(extra, name + "_scale", TensorProto.Types.DataType.Float, MemoryMarshal.AsBytes(scales.AsSpan()), outputs);
        string z = Add(extra, name + "_zero_point", TensorProto.Types.DataType.Int8, new byte[outputs], outputs);
        nodes.Add(Node("DequantizeLinear", name + "_DequantizeLinear", new[] { q, s, z }, name + "_dq", OnnxGraph.Attribute("axis", 0)));
        conv.Input[1] = name + "_dq";
        if (conv.Input.Count < 3 || conv.Input[2].Length == 0) return;
        var bias = Floats(initializers[conv.Input[2]]);
        var biasScales = scales.Select(w => w * inputScale).ToArray();
        var biasQuantized = bias.Select((b, o) => (int)Math.Clamp(Math.Round(b / biasScales[o]), int.MinValue + 1, int.MaxValue)).ToArray();
        string bname = conv.Name + "_bias";
        string bq = Add(extra, bname + "_quantized", TensorProto.Types.DataType.Int32, MemoryMarshal.AsBytes(biasQuantized.AsSpan()), outputs);
        string bs = Add(extra, bname + "_scale", TensorProto.Types.DataType.Float, MemoryMarshal.AsBytes(biasScales.AsSpan()), outputs);
        string bz = Add(extra, bname + "_zero_point", TensorProto.Types.DataType.Int32, new byte[outputs * 4], outputs);
        nodes.Add(Node("DequantizeLinear", bname + "_DequantizeLinear", new[] { bq, bs, bz }, bname + "_dq", OnnxGraph.Attribute("axis", 0)));
        conv.Input[2] = bname + "_dq";
    }

    /// <summary>The tensor quantised after a convolution: its ReLU's output when a ReLU is its only reader, else its own output.</summary>
    private static string QuantizedOutput(NodeProto conv, Dictionary<string, List<NodeProto>> consumers)
    {
        string output = conv.Output[0];
        return consumers.TryGetValue(output, out var readers) && readers.Count == 1 && readers[0].OpType == "Relu" ? readers[0].Output[0] : output;
    }

    /// <summary>Folds each BatchNormalization whose input is a Conv's output read by nothing else into that Conv's weight and bias.</summary>
    private static void FoldBatchNorms(GraphProto graph)
    {
        var initializers = graph.Initializer.ToDictionary(t => t.Name, StringComparer.Ordinal);
        var producers = graph.Node.SelectMany(n => n.Output.Select(o => (o, n))).ToDictionary(p => p.o, p => p.n, StringComparer.Ordinal);
        var consumers = Consumers(graph);
        var removed = new List<NodeProto>();
        foreach (var norm in graph.Node.Where(n => n.OpType == "BatchNormalization").ToList())
        {
            if (!producers.TryGetValue(norm.Input[0], out var conv) || conv.OpType != "Conv" || consumers[norm.Input[0]].Count != 1) continue;
            if (graph.Output.Any(o => o.Name == conv.Output[0])) continue;
            float epsilon = norm.Attribute.FirstOrDefault(a => a.Name == "epsilon")?.F ?? 1e-5f;
            float[] gamma = Floats(initializers[norm.Input[1]]), beta = Floats(initializers[norm.Input[2]]);
            float[] mean = Floats(initializers[norm.Input[3]]), variance = Floats(initializers[norm.Input[4]]);
            var weightProto = initializers[conv.Input[1]];
            var weight = Floats(weightProto);
            int outputs = (int)weightProto.Dims[0], per = weight.Length / outputs;
            var bias = conv.Input.Count > 2 && conv.Input[2].Length > 0 ? Floats(initializers[conv.Input[2]]) : new float[outputs];
            var folded = new float[weight.Length];
            var foldedBias = new float[outputs];
            for (int o = 0; o < outputs; o++)
            {
                double scale = gamma[o] / Math.Sqrt(variance[o] + (double)epsilon);
                for (int i = 0; i < per; i++) folded[o * per + i] = (float)(weight[o * per + i] * scale);
                foldedBias[o] = (float)((bias[o] - mean[o]) * scale + beta[o]);
            }
            string weightName = Add(graph.Initializer, conv.Name + "_folded_weight", TensorProto.Types.DataType.Float,
                MemoryMarshal.AsBytes(folded.AsSpan()), weightProto.Dims.ToArray());
            string biasName = Add(graph.Initializer, conv.Name + "_folded_bias", TensorProto.Types.DataType.Float,
                MemoryMarshal.AsBytes(foldedBias.AsSpan()), outputs);
            conv.Input[1] = weightName;
            if (conv.Input.Count > 2) conv.Input[2] = biasName;
            else conv.Input.Add(biasName);
            conv.Output[0] = norm.Output[0];
            removed.Add(norm);
        }
        foreach (var node in removed) graph.Node.Remove(node);
        var read = graph.Node.SelectMany(n => n.Input).ToHashSet(StringComparer.Ordinal);
        foreach (var tensor in graph.Initializer.Where(t => !read.Contains(t.Name)).ToList()) graph.Initializer.Remove(tensor);
    }

    private static Dictionary<string, List<NodeProto>> Consumers(GraphProto graph)
    {
        var consumers = new Dictionary<string, List<NodeProto>>(StringComparer.Ordinal);
        foreach (var node in graph.Node)
        {
            foreach (string input in node.Input.Where(i => i.Length > 0))
            {
                if (!consumers.TryGetValue(input, out var list)) consumers[input] = list = new List<NodeProto>();
                list.Add(node);
            }
        }
        return consumers;
    }

    /// <summary>A float32 initializer's values (raw data or float_data).</summary>
    public static float[] Floats(TensorProto tensor)
    {
        if (tensor.DataType != (int)TensorProto.Types.DataType.Float)
            throw new SegSharpException($"Initializer '{tensor.Name}' is not float32 (type {tensor.DataType}); the model is already quantised or not from " +
                "segsharp export. Quantise the float model.");
        return tensor.RawData.Length > 0 ? MemoryMarshal.Cast<byte, float>(tensor.RawData.Span).ToArray() : tensor.FloatData.ToArray();
    }

    private static string Add(ICollection<TensorProto> into, string name, TensorProto.Types.DataType type, ReadOnlySpan<byte> raw, params long[] dims)
    {
        var proto = new TensorProto { Name = name, DataType = (int)type, RawData = ByteString.CopyFrom(raw) };
        proto.Dims.AddRange(dims);
        into.Add(proto);
        return name;
    }

    private static NodeProto Node(string op, string name, string[] inputs, string output, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = op, Name = name };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        node.Attribute.AddRange(attributes);
        return node;
    }
}
