using SegSharp.Foundation;

namespace SegSharp.Models;

/// <summary>State-dict files SegSharp reads and writes (through TorchSharp.PyBridge).</summary>
public enum WeightFileFormat
{
    /// <summary>safetensors: a JSON header and raw tensors; never runs code, the format to prefer for files from elsewhere.</summary>
    [OptionName("safetensors")] Safetensors,

    /// <summary>PyTorch's zip pickle, readable by <c>torch.load(path, weights_only=True)</c>.</summary>
    [OptionName("pytorch")] PyTorch,
}
