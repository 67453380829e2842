using TorchSharp;
using static TorchSharp.torch;

namespace SegSharp.Data;

/// <summary>A batch in managed memory: images [N, C, H, W] float32 and masks [N, H, W] as int64 class indices.</summary>
public sealed record HostBatch(int Epoch, int Index, float[] Images, long[] Masks, int Count, int Channels, int Height, int Width, IReadOnlyList<string> Names)
{
    /// <summary>Builds one batch; all samples must share a size (add a crop or resize transform otherwise).</summary>
    /// <param name="batchSizeKey">The config key of the batch size, for the message when sizes differ.</param>
    public static HostBatch Collate(int epoch, int index, IReadOnlyList<Sample> samples, string batchSizeKey = "the batch size")
    {
        var first = samples[0];
        foreach (var s in samples)
        {
            if (s.Height != first.Height || s.Width != first.Width || s.Channels != first.Channels)
                throw new SegSharpException($"Samples '{first.Name}' ({first.Width}x{first.Height}) and '{s.Name}' ({s.Width}x{s.Height}) cannot share a " +
                    $"batch. Set {batchSizeKey} to 1, or add a resize or center_crop transform so every sample has one size.");
        }
        int imageSize = first.Channels * first.Height * first.Width, maskSize = first.Height * first.Width;
        var images = new float[samples.Count * imageSize];
        var masks = new long[samples.Count * maskSize];
        for (int i = 0; i < samples.Count; i++)
        {
            samples[i].Image.CopyTo(images, i * imageSize);
            var mask = samples[i].Mask;
            for (int j = 0; j < maskSize; j++) masks[i * maskSize + j] = mask[j];
        }
        return new HostBatch(epoch, index, images, masks, samples.Count, first.Channels, first.Height, first.Width, samples.Select(s => s.Name).ToList());
    }

    /// <summary>The images as a tensor [N, C, H, W] float32 (a copy owned by the current dispose scope).</summary>
    public Tensor ImageTensor() => tensor(Images, new long[] { Count, Channels, Height, Width });

    /// <summary>The masks as a tensor [N, H, W] int64.</summary>
    public Tensor MaskTensor() => tensor(Masks, new long[] { Count, Height, Width });
}
