namespace SegSharp.Data;

/// <summary>
/// One image and its mask in host memory. <see cref="Image"/> is float32 CHW with values in [0, 1] before
/// normalisation; <see cref="Mask"/> is HW class indices, with <see cref="IgnoreIndex"/> marking pixels that
/// count for nothing.
/// </summary>
public sealed record Sample(string Name, float[] Image, int[] Mask, int Channels, int Height, int Width, int IgnoreIndex)
{
    /// <summary>A sample with new pixel data and size; name and ignore index carry over.</summary>
    public Sample With(float[] image, int[] mask, int height, int width) =>
        this with { Image = image, Mask = mask, Height = height, Width = width };
}
