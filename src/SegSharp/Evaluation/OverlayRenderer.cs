using SegSharp.Data;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SegSharp.Foundation;

namespace SegSharp.Evaluation;

/// <summary>
/// Draws the pictures a person checks predictions with: class-coloured masks, masks blended over the image,
/// and a panel "image | ground truth | prediction | error map" (error map: green right, red wrong, grey ignored).
/// </summary>
public static class OverlayRenderer
{
    private static readonly Rgb24 Ignored = new(128, 128, 128);

    /// <summary>
    /// The image as 8-bit RGB, contrast-stretched to the shown bands' min..max (inputs may be normalised): the first three
    /// bands as RGB, or the first band as gray when there are fewer than three.
    /// </summary>
    public static Rgb24[] Display(float[] image, int channels, int height, int width)
    {
        int plane = height * width, shown = channels >= 3 ? 3 : 1;
        float min = float.MaxValue, max = float.MinValue;
        foreach (float v in image.AsSpan(0, shown * plane)) { min = Math.Min(min, v); max = Math.Max(max, v); }
        float scale = max > min ? 255f / (max - min) : 0;
        var pixels = new Rgb24[plane];
        for (int i = 0; i < plane; i++)
        {
            byte Channel(int c) => (byte)Math.Clamp((image[c % shown * plane + i] - min) * scale, 0, 255);
            pixels[i] = new Rgb24(Channel(0), Channel(1), Channel(2));
        }
        return pixels;
    }

    /// <summary>Each pixel in its class colour; ignored pixels grey.</summary>
    public static Rgb24[] Colorize(int[] mask, IReadOnlyList<ClassInfo> classes) =>
        mask.Select(label => ColorOf(label, Ignored, classes, multiLabel: false)).ToArray();

    /// <summary>
    /// A mask over the image: multiclass, each class's colour blended; multilabel (<see cref="LabelBits"/>), the mean colour
    /// of the classes present blended, the image itself where none is, grey where ignored.
    /// </summary>
    public static Rgb24[] Overlay(Rgb24[] shown, int[] mask, IReadOnlyList<ClassInfo> classes, bool multiLabel) =>
        Blend(shown, Enumerable.Range(0, mask.Length).Select(i => ColorOf(mask[i], shown[i], classes, multiLabel)).ToArray());

    /// <summary>
    /// The colour a label is drawn in: its class's (multiclass), the mean of the present classes' or the image's own
    /// (multilabel), grey if ignored.
    /// </summary>
    private static Rgb24 ColorOf(int label, Rgb24 shown, IReadOnlyList<ClassInfo> classes, bool multiLabel)
    {
        if (!multiLabel)
            return label >= 0 && label < classes.Count ? new Rgb24(classes[label].Color[0], classes[label].Color[1], classes[label].Color[2]) : Ignored;
        if (label == LabelBits.Ignore) return Ignored;
        int r = 0, g = 0, b = 0, n = 0;
        for (int c = 0; c < classes.Count; c++)
        {
            if (!LabelBits.Has(label, c)) continue;
            (r, g, b, n) = (r + classes[c].Color[0], g + classes[c].Color[1], b + classes[c].Color[2], n + 1);
        }
        return n == 0 ? shown : new Rgb24((byte)(r / n), (byte)(g / n), (byte)(b / n));
    }

    /// <summary>
    /// <see cref="Overlay"/> drawn into <paramref name="shown"/> itself and saved as PNG through a temp file, without a copy of
    /// the image: for predictions of any size (at 12000x12000 each copy is 430 MB).
    /// </summary>
    public static void SaveOverlay(Rgb24[] shown, int[] mask, IReadOnlyList<ClassInfo> classes, bool multiLabel, int height, int width, string path)
    {
        const float alpha = 0.45f;
        for (int i = 0; i < shown.Length; i++)
        {
            var color = ColorOf(mask[i], shown[i], classes, multiLabel);
            shown[i] = new Rgb24((byte)(shown[i].R * (1 - alpha) + color.R * alpha), (byte)(shown[i].G * (1 - alpha) + color.G * alpha),
                (byte)(shown[i].B * (1 - alpha) + color.B * alpha));
        }
        using var image = Image.WrapMemory<Rgb24>(shown.AsMemory(), width, height);
        AtomicFile.Write(path, stream => image.SaveAsPng(stream));
    }

    /// <summary>Class colours blended over the image at <paramref name="alpha"/>.</summary>
    public static Rgb24[] Blend(Rgb24[] image, Rgb24[] colors, float alpha = 0.45f)
    {
        var result = new Rgb24[image.Length];
        for (int i = 0; i < image.Length; i++)
        {
            result[i] = new Rgb24(
                (byte)(image[i].R * (1 - alpha) + colors[i].R * alpha),
                (byte)(image[i].G * (1 - alpha) + colors[i].G * alpha),
                (byte)(image[i].B * (1 - alpha) + colors[i].B * alpha));
        }
        return result;
    }

    public static Rgb24[] ErrorMap(int[] truth, int[] prediction, int ignoreIndex)
    {
        var result = new Rgb24[truth.Length];
        for (int i = 0; i < truth.Length; i++)
            result[i] = truth[i] == ignoreIndex ? Ignored : truth[i] == prediction[i] ? new Rgb24(40, 170, 70) : new Rgb24(220, 40, 40);
        return result;
    }

    /// <summary>Four panels side by side with a 4-pixel gap: image | truth | prediction | errors.</summary>
    public static Image<Rgb24> Panel(float[] image, int channels, int height, int width, int[] truth, int[] prediction, DatasetDescription description)
    {
        var shown = Display(image, channels, height, width);
        bool multiLabel = description.Task == SegmentationTask.Multilabel;
        var panels = new[]
        {
            shown,
            Overlay(shown, truth, description.Classes, multiLabel),
            Overlay(shown, prediction, description.Classes, multiLabel),
            ErrorMap(truth, prediction, description.IgnoreIndex),
        };
        const int gap = 4;
        var canvas = new Image<Rgb24>(width * 4 + gap * 3, height, new Rgb24(255, 255, 255));
        for (int p = 0; p < panels.Length; p++)
        {
            int left = p * (width + gap);
            for (int y = 0; y < height; y++)
                for (int x = 0; x < width; x++) canvas[left + x, y] = panels[p][y * width + x];
        }
        return canvas;
    }

    public static Image<Rgb24> ToImage(Rgb24[] pixels, int height, int width)
    {
        var image = new Image<Rgb24>(width, height);
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++) image[x, y] = pixels[y * width + x];
        return image;
    }

    public static byte[] Png(Image<Rgb24> image)
    {
        using var stream = new MemoryStream();
        image.SaveAsPng(stream);
        return stream.ToArray();
    }

    /// <summary>Saves as PNG via a temp file and rename.</summary>
    public static void SavePng(Image<Rgb24> image, string path) => AtomicFile.WriteAllBytes(path, Png(image));
}
