using SegSharp.Configuration;
using static TorchSharp.torch;

namespace SegSharp.Models;

/// <summary>
/// Loads a torchvision ResNet state dict (<c>torchvision.models.resnet18/34/50().state_dict()</c>: <c>conv1.weight</c>,
/// <c>layer1.0.bn1.running_mean</c>, ...) into SegSharp's <see cref="ResNetEncoder"/> through an explicit key map.
/// The classifier (<c>fc.*</c>) is expected and left unused; any other key the map does not place, any encoder
/// key the file lacks, and any shape that differs is an error naming the keys.
/// </summary>
public static class TorchvisionResNet
{
    /// <summary>torchvision key → key inside <see cref="ResNetEncoder"/>, for every encoder parameter and buffer.</summary>
    public static IReadOnlyDictionary<string, string> KeyMap(EncoderKind kind)
    {
        var (blocks, bottleneck) = ResNetEncoder.Layout(kind);
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        AddConv(map, "conv1", "_stem.0");
        AddNorm(map, "bn1", "_stem.1");
        // Positions inside a block's body: conv, norm, ReLU, conv, norm (, ReLU, conv, norm for bottlenecks).
        int[] convs = bottleneck ? new[] { 0, 3, 6 } : new[] { 0, 3 };
        for (int stage = 0; stage < 4; stage++)
        {
            for (int block = 0; block < blocks[stage]; block++)
            {
                string from = $"layer{stage + 1}.{block}", to = $"_layer{stage + 1}.{block}";
                for (int i = 0; i < convs.Length; i++)
                {
                    AddConv(map, $"{from}.conv{i + 1}", $"{to}._body.{convs[i]}");
                    AddNorm(map, $"{from}.bn{i + 1}", $"{to}._body.{convs[i] + 1}");
                }
                if (block == 0 && ResNetEncoder.HasShortcut(kind, stage))
                {
                    AddConv(map, $"{from}.downsample.0", $"{to}._shortcut.0");
                    AddNorm(map, $"{from}.downsample.1", $"{to}._shortcut.1");
                }
            }
        }
        return map;
    }

    /// <summary>Copies the file's weights into <paramref name="encoder"/>; nothing changes if any key does not fit.</summary>
    public static void LoadInto(ResNetEncoder encoder, EncoderKind kind, string path)
    {
        var file = WeightFiles.Read(path);
        try
        {
            var map = KeyMap(kind);
            var target = encoder.state_dict();
            if (file.TryGetValue(FirstConvolution, out var first) && target.TryGetValue(map[FirstConvolution], out var stem)
                && first.dim() == 4 && stem.dim() == 4 && first.shape[1] != stem.shape[1]
                && first.shape.Where((d, i) => i != 1).SequenceEqual(stem.shape.Where((d, i) => i != 1)))
            {
                file[FirstConvolution] = AdaptInputChannels(first, stem.shape[1]);
                first.Dispose();
            }
            var unexpected = file.Keys.Where(k => !map.ContainsKey(k) && !k.StartsWith("fc.", StringComparison.Ordinal)).ToList();
            var missing = map.Where(kv => !file.ContainsKey(kv.Key)).Select(kv => kv.Key).ToList();
            var unplaced = target.Keys.Except(map.Values).ToList();
            var misShaped = map.Where(kv => file.ContainsKey(kv.Key) && !file[kv.Key].shape.SequenceEqual(target[kv.Value].shape))
                .Select(kv => $"{kv.Key} (file [{string.Join(", ", file[kv.Key].shape)}], encoder [{string.Join(", ", target[kv.Value].shape)}])").ToList();
            if (unplaced.Count > 0)
                throw new SegSharpException($"model.encoder_weights needs model.norm: batch (a torchvision ResNet has batch norms); " +
                    $"the encoder has keys no torchvision key maps to: {string.Join(", ", unplaced.Take(3))}.");
            if (unexpected.Count + missing.Count + misShaped.Count > 0)
                throw new SegSharpException($"Weights file '{path}' is not a torchvision {Foundation.OptionNames<EncoderKind>.Name(kind)} state dict: " +
                    WeightFiles.Describe("missing", missing) + WeightFiles.Describe("unexpected", unexpected) + WeightFiles.Describe("mis-shaped", misShaped) +
                    "check model.encoder against the network that wrote it (fc.* is ignored).");
            using var noGrad = no_grad();
            foreach (var (from, to) in map) target[to].copy_(file[from]);
        }
        finally
        {
            foreach (var tensor in file.Values) tensor.Dispose();
        }
    }

    private const string FirstConvolution = "conv1.weight";

    /// <summary>
    /// A pretrained first convolution [out, 3, k, k] for <paramref name="channels"/> input channels: 1 sums the three
    /// kernels, so a gray image gives exactly the features of that gray repeated in RGB; otherwise channel c takes kernel
    /// c mod 3 scaled by 3 / channels, so an image whose channels are all equal gives exactly the RGB features of one of
    /// them when channels is a multiple of 3 (and nearly otherwise). The rule of segmentation_models.pytorch.
    /// </summary>
    public static Tensor AdaptInputChannels(Tensor weight, long channels)
    {
        using var noGrad = no_grad();
        if (channels == 1) return weight.sum(1, keepdim: true);
        long source = weight.shape[1];
        using var index = arange(channels, dtype: ScalarType.Int64).remainder(source);
        return weight.index_select(1, index) * (source / (double)channels);
    }

    private static void AddConv(Dictionary<string, string> map, string from, string to) => map[$"{from}.weight"] = $"{to}.weight";

    private static void AddNorm(Dictionary<string, string> map, string from, string to)
    {
        foreach (var name in new[] { "weight", "bias", "running_mean", "running_var", "num_batches_tracked" }) map[$"{from}.{name}"] = $"{to}.{name}";
    }

}
