using System.Runtime.InteropServices;
using Google.Protobuf;
using Onnx;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SegSharp.Models;

/// <summary>
/// An ONNX graph (opset 17) under construction: SegSharp's modules add their nodes to it in forward order, each
/// taking the name of its input value and returning the name of its output. Weights become initializers named
/// by their state-dict keys and hold the logical float32 values: the zero filters <see cref="Convolution"/> adds
/// around the CPU kernel defect exist only during a forward pass, and bfloat16 is a compute type, never stored.
/// A module type without a known translation is refused by name rather than exported as a wrong graph.
/// </summary>
internal sealed class OnnxGraph
{
    private readonly GraphProto _graph = new();
    private readonly Dictionary<IntPtr, string> _stateNames;
    private readonly HashSet<string> _used = new(StringComparer.Ordinal);

    /// <summary>Tensor handle → initializer name, so a tensor used twice is stored once.</summary>
    private readonly Dictionary<IntPtr, string> _written = new();
    private int _counter;

    /// <param name="stateNames">Tensor handle → state-dict key, so initializers carry the names weight files use.</param>
    public OnnxGraph(string name, IReadOnlyDictionary<IntPtr, string> stateNames)
    {
        _graph.Name = name;
        _stateNames = new Dictionary<IntPtr, string>(stateNames);
    }

    public GraphProto Proto => _graph;

    /// <summary>Adds one node; returns the name of its (first) output.</summary>
    public string Node(string op, IEnumerable<string> inputs, params AttributeProto[] attributes) => Node(op, inputs, 1, attributes)[0];

    /// <summary>Adds one node with <paramref name="outputs"/> outputs; returns their names.</summary>
    public string[] Node(string op, IEnumerable<string> inputs, int outputs, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = op, Name = Fresh(op) };
        node.Input.AddRange(inputs);
        var names = Enumerable.Range(0, outputs).Select(_ => Fresh(op.ToLowerInvariant())).ToArray();
        node.Output.AddRange(names);
        node.Attribute.AddRange(attributes);
        _graph.Node.Add(node);
        return names;
    }

    /// <summary>A float32 initializer holding <paramref name="value"/>'s current contents, named after its state-dict key.</summary>
    public string Weight(Tensor value)
    {
        if (_written.TryGetValue(value.Handle, out var written)) return written;
        string name = _stateNames.TryGetValue(value.Handle, out var key) ? key : Fresh("weight");
        _used.Add(name);
        _written[value.Handle] = name;
        using var plain = value.detach().to(ScalarType.Float32).cpu().contiguous();
        var proto = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        proto.Dims.AddRange(plain.shape);
        proto.RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(plain.data<float>().ToArray().AsSpan()));
        _graph.Initializer.Add(proto);
        return name;
    }

    /// <summary>A constant float32 tensor.</summary>
    public string Constant(float[] values, params long[] dims) =>
        Initializer(TensorProto.Types.DataType.Float, MemoryMarshal.AsBytes(values.AsSpan()), dims);

    /// <summary>A constant 1-D int64 tensor (shapes, pads, axes).</summary>
    public string Constant(params long[] values) => Int64Constant(values, values.Length);

    /// <summary>A constant int64 tensor of the given shape.</summary>
    public string Int64Constant(long[] values, params long[] dims) =>
        Initializer(TensorProto.Types.DataType.Int64, MemoryMarshal.AsBytes(values.AsSpan()), dims);

    private string Initializer(TensorProto.Types.DataType type, ReadOnlySpan<byte> raw, long[] dims)
    {
        var proto = new TensorProto { Name = Fresh("const"), DataType = (int)type };
        proto.Dims.AddRange(dims);
        proto.RawData = ByteString.CopyFrom(raw);
        _graph.Initializer.Add(proto);
        return proto.Name;
    }

    /// <summary>Elements [start, end) of a 1-D tensor such as a shape.</summary>
    public string Slice(string input, long start, long end) => Node("Slice", new[] { input, Constant(start), Constant(end), Constant(0L) });

    /// <summary>Shape [N, C of <paramref name="channelsOf"/>, H and W of <paramref name="sizeOf"/>] as an int64 tensor.</summary>
    public string ShapeWithSize(string channelsOf, string sizeOf) =>
        Node("Concat", new[] { Slice(Node("Shape", new[] { channelsOf }), 0, 2), Slice(Node("Shape", new[] { sizeOf }), 2, 4) }, Attribute("axis", 0));

    /// <summary>
    /// Bilinear resampling to an int64 shape [N, C, H, W] or by per-axis scales, with PyTorch's align_corners=False
    /// sampling (pytorch_half_pixel).
    /// </summary>
    public string Bilinear(string input, string? sizes = null, float[]? scales = null) =>
        Node("Resize", new[] { input, "", scales is null ? "" : Constant(scales, scales.Length), sizes ?? "" },
            Attribute("mode", "linear"), Attribute("coordinate_transformation_mode", "pytorch_half_pixel"));

    /// <summary>2x nearest-neighbour upsampling as PyTorch's <c>interpolate(scale_factor=2, mode="nearest")</c>: output pixel i reads input i / 2.</summary>
    public string Nearest2x(string input) =>
        Node("Resize", new[] { input, "", Constant(new[] { 1f, 1f, 2f, 2f }, 4), "" },
            Attribute("mode", "nearest"), Attribute("coordinate_transformation_mode", "asymmetric"), Attribute("nearest_mode", "floor"));

    /// <summary>The nodes of <paramref name="module"/> applied to <paramref name="input"/>; returns its output's name.</summary>
    public string Add(nn.Module module, string input) => module switch
    {
        IOnnxExportable exportable => exportable.AddTo(this, input),
        Sequential sequence => sequence.children().Aggregate(input, (x, child) => Add(child, x)),
        Convolution convolution => AddConvolution(convolution, input),
        BatchNorm2d norm => Node("BatchNormalization",
            new[] { input, Weight(norm.weight!), Weight(norm.bias!), Weight(norm.running_mean!), Weight(norm.running_var!) },
            Attribute("epsilon", (float)norm.eps)),
        ReLU => Node("Relu", new[] { input }),
        Identity => input,
        MaxPool2d pool => Node("MaxPool", new[] { input }, Attribute("kernel_shape", pool.kernel_size), Attribute("strides", pool.stride ?? pool.kernel_size),
            Attribute("pads", Pads(pool.padding ?? new long[] { 0, 0 })), Attribute("dilations", pool.dilation ?? new long[] { 1, 1 }),
            Attribute("ceil_mode", pool.ceil_mode ? 1 : 0)),
        Upsample upsample => AddUpsample(upsample, input),
        AdaptiveAvgPool2d pool when pool.output_size.All(s => s == 1) => Node("GlobalAveragePool", new[] { input }),
        _ => throw new SegSharpException($"ONNX export does not know the module type {module.GetType().Name} ('{module.GetName()}'); it would " +
            "write a wrong graph, so it stops. Export supports the models SegSharp builds (" +
            $"{Foundation.OptionNames<Configuration.ModelKind>.Choices})."),
    };

    private string AddConvolution(Convolution convolution, string input)
    {
        var inputs = new List<string> { input, Weight(convolution.Weight) };
        if (convolution.Bias is not null) inputs.Add(Weight(convolution.Bias));
        var kernel = convolution.Weight.shape[2..];
        var attributes = new List<AttributeProto>
        {
            Attribute("kernel_shape", kernel), Attribute("strides", convolution.Strides), Attribute("pads", Pads(convolution.Padding)),
            Attribute("dilations", convolution.Dilations),
        };
        if (convolution.IsTransposed) attributes.Add(Attribute("output_padding", convolution.OutputPadding));
        return Node(convolution.IsTransposed ? "ConvTranspose" : "Conv", inputs, attributes.ToArray());
    }

    private string AddUpsample(Upsample upsample, string input)
    {
        var factors = upsample.scale_factor.ToArray();
        if (upsample.mode != UpsampleMode.Bilinear || upsample.align_corners == true || factors.Length != 2)
            throw new SegSharpException($"ONNX export supports bilinear upsampling by a scale factor with align_corners=false, not {upsample.mode} " +
                $"(align_corners={upsample.align_corners}).");
        return Bilinear(input, scales: new[] { 1f, 1f, (float)factors[0], (float)factors[1] });
    }

    /// <summary>PyTorch's symmetric [pad_h, pad_w] as ONNX's [top, left, bottom, right].</summary>
    private static long[] Pads(long[] padding) => new[] { padding[0], padding[1], padding[0], padding[1] };

    public static AttributeProto Attribute(string name, long value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    public static AttributeProto Attribute(string name, float value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    public static AttributeProto Attribute(string name, string value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(value) };

    public static AttributeProto Attribute(string name, IEnumerable<long> values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.AddRange(values);
        return attribute;
    }

    private string Fresh(string hint)
    {
        string name;
        do name = $"{hint}_{_counter++}";
        while (!_used.Add(name));
        return name;
    }
}
