using SegSharp.Foundation;

namespace SegSharp.Workflows;

/// <summary>What <c>segsharp export</c> writes.</summary>
public enum ExportFormat
{
    /// <summary>An ONNX model (opset 17) with the model card in its metadata: runs in ONNX Runtime, no SegSharp needed.</summary>
    [OptionName("onnx")] Onnx,

    /// <summary>The state dict as safetensors.</summary>
    [OptionName("safetensors")] Safetensors,

    /// <summary>The state dict in PyTorch's zip pickle format.</summary>
    [OptionName("pytorch")] PyTorch,
}
