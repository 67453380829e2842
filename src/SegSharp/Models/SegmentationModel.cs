using TorchSharp;
using static TorchSharp.torch;

namespace SegSharp.Models;

/// <summary>
/// A segmentation network behind one contract: input [N, C_in, H, W] float32, output logits [N, classes, H, W]
/// at the input's size. Inputs whose sides are not multiples of <see cref="Stride"/> are zero-padded and the
/// logits cropped back (input_policy: pad), or refused before the forward pass with the size to use (strict);
/// never a shape error from deep inside the network.
/// </summary>
public abstract class SegmentationModel : nn.Module<Tensor, Tensor>
{
    protected SegmentationModel(string name, int inputChannels, int classes, int stride, bool padInputs) : base(name)
    {
        InputChannels = inputChannels;
        Classes = classes;
        Stride = stride;
        PadInputs = padInputs;
    }

    public int InputChannels { get; }
    public int Classes { get; }

    /// <summary>The total downsampling factor: input sides must be multiples of this (or are padded to one).</summary>
    public int Stride { get; }
    public bool PadInputs { get; }

    /// <summary>The network proper, on inputs whose sides are multiples of <see cref="Stride"/>.</summary>
    protected abstract Tensor ForwardAligned(Tensor input);

    /// <summary>The encoder that can start from pretrained weights (<c>model.encoder_weights</c>); null for a model without one.</summary>
    internal virtual ResNetEncoder? PretrainableEncoder => null;

    /// <summary>
    /// In training mode the encoder's batch norms still normalise with their loaded statistics and do not update them
    /// (<c>model.freeze_encoder_norm</c>, as fine-tuning recipes do with small batches).
    /// </summary>
    public bool FreezeEncoderNorm { get; protected init; }

    public override void train(bool on = true)
    {
        base.train(on);
        if (on && FreezeEncoderNorm && PretrainableEncoder is { } encoder)
            foreach (var norm in encoder.modules().OfType<TorchSharp.Modules.BatchNorm2d>()) norm.eval();
    }

    /// <summary>The encoder's trainable parameters (their own group for <c>optimizer.encoder_lr_factor</c>); empty without an encoder.</summary>
    public IReadOnlyList<TorchSharp.Modules.Parameter> EncoderParameters() =>
        PretrainableEncoder?.parameters().ToList() ?? (IReadOnlyList<TorchSharp.Modules.Parameter>)Array.Empty<TorchSharp.Modules.Parameter>();

    public override Tensor forward(Tensor input)
    {
        if (input.dim() != 4 || input.shape[1] != InputChannels)
            throw new SegSharpException(
                $"Model expects input [N, {InputChannels}, H, W] but got [{string.Join(", ", input.shape)}]. Check the dataset's channels setting.");
        long height = input.shape[2], width = input.shape[3];
        long padH = (Stride - height % Stride) % Stride, padW = (Stride - width % Stride) % Stride;
        if (padH == 0 && padW == 0) return LaidOutChannelsLast ? Plain(ForwardAligned(input)) : ForwardAligned(input);
        if (!PadInputs)
            throw new SegSharpException($"Input {width}x{height} is not a multiple of {Stride} (the model's total stride); resize or crop to " +
                $"{width + padW}x{height + padH}, or set model.input_policy: pad.");
        using var scope = NewDisposeScope();
        var padded = nn.functional.pad(input, new[] { 0L, padW, 0L, padH });
        var logits = ForwardAligned(padded);
        return logits[.., .., ..(int)height, ..(int)width].contiguous().MoveToOuterDisposeScope();
    }

    /// <summary>Whether <see cref="ChannelsLast"/> has laid the model out for inference; logits are returned plain either way.</summary>
    internal bool LaidOutChannelsLast { get; set; }

    private static Tensor Plain(Tensor logits)
    {
        if (logits.is_contiguous()) return logits;
        using (logits) return logits.contiguous();
    }

    /// <summary>
    /// The network proper as ONNX nodes, on inputs whose sides are multiples of <see cref="Stride"/>. A model without
    /// a translation is refused by name instead of exported wrong.
    /// </summary>
    internal virtual string AddAlignedTo(OnnxGraph graph, string input) =>
        throw new SegSharpException($"ONNX export does not know the model {GetName()}; it exports the models SegSharp builds " +
            $"({Foundation.OptionNames<Configuration.ModelKind>.Choices}).");

    /// <summary>
    /// <see cref="forward"/> as ONNX nodes for any input size: with input_policy pad the graph pads height and width
    /// with zeros up to multiples of <see cref="Stride"/> (computed from the input's shape at run time) and crops the
    /// logits back, exactly as <see cref="forward"/> does; with strict it expects aligned inputs.
    /// </summary>
    internal string AddTo(OnnxGraph graph, string input)
    {
        if (!PadInputs) return AddAlignedTo(graph, input);
        string size = graph.Slice(graph.Node("Shape", new[] { input }), 2, 4);
        string stride = graph.Constant(Stride, Stride);
        string missing = graph.Node("Mod", new[] { graph.Node("Sub", new[] { stride, graph.Node("Mod", new[] { size, stride }) }), stride });
        // Pad's layout is [begin of each axis..., end of each axis...]: only the ends of H and W grow.
        string pads = graph.Node("Concat", new[] { graph.Constant(0, 0, 0, 0, 0, 0), missing }, OnnxGraph.Attribute("axis", 0));
        string logits = AddAlignedTo(graph, graph.Node("Pad", new[] { input, pads }, OnnxGraph.Attribute("mode", "constant")));
        return graph.Node("Slice", new[] { logits, graph.Constant(0, 0), size, graph.Constant(2, 3) });
    }

    /// <summary>
    /// The type every convolution computes in: null for float32 throughout, <see cref="ScalarType.BFloat16"/> for
    /// bfloat16 convolutions around float32 weights, norms and logits (see <see cref="Convolution"/>).
    /// </summary>
    public ScalarType? ComputeType
    {
        get => _computeType;
        set
        {
            _computeType = value;
            foreach (var convolution in modules().OfType<Convolution>()) convolution.ComputeType = value;
        }
    }

    private ScalarType? _computeType;

    /// <summary>Number of trainable parameters.</summary>
    public long ParameterCount() => parameters().Where(p => p.requires_grad).Sum(p => p.numel());
}
