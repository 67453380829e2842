using SegSharp.Foundation;

namespace SegSharp.Configuration;

/// <summary>train.device: where tensors live. Only the CPU build of TorchSharp is available to SegSharp today.</summary>
public enum DeviceKind
{
    [OptionName("cpu")] Cpu,
}
