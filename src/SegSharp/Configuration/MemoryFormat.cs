using SegSharp.Foundation;

namespace SegSharp.Configuration;

/// <summary>
/// evaluation.memory_format and predict --memory-format: how libtorch lays out a model's convolution weights and
/// activations when evaluating and predicting (training always uses the plain layout). channels_last (NHWC strides) is
/// faster on CPUs: oneDNN convolves it without reordering every activation. auto uses it when this CPU's kernels pass
/// SegSharp's checks (<see cref="Models.ChannelsLast"/>), else contiguous.
/// </summary>
public enum MemoryFormat
{
    [OptionName("auto")] Auto,
    [OptionName("channels_last")] ChannelsLast,
    [OptionName("contiguous")] Contiguous,
}
