using SegSharp.Data;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace SegSharp.Tests.Data;

/// <summary>Writes small folder datasets with known contents for tests.</summary>
public static class DatasetFixture
{
    /// <summary>A class-index pattern [h, w] where every class in 0..classes-1 occurs.</summary>
    public static int[] Pattern(int height, int width, int classes) =>
        Enumerable.Range(0, height * width).Select(i => (i / width + 2 * (i % width)) % classes).ToArray();

    public static void WriteGray8(string path, int[] values, int height, int width)
    {
        using var image = new Image<L8>(width, height);
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
                image[x, y] = new L8((byte)values[y * width + x]);
        image.SaveAsPng(path);
    }

    public static void WriteGray16(string path, int[] values, int height, int width)
    {
        using var image = new Image<L16>(width, height);
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
                image[x, y] = new L16((ushort)values[y * width + x]);
        image.SaveAsPng(path);
    }

    public static void WriteRgb(string path, int[] packed, int height, int width)
    {
        using var image = new Image<Rgb24>(width, height);
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                int v = packed[y * width + x];
                image[x, y] = new Rgb24((byte)(v >> 16), (byte)(v >> 8), (byte)v);
            }
        image.SaveAsPng(path);
    }

    /// <summary>A dataset folder with images/ and masks/ and a description; returns the description path.</summary>
    public static string Create(string root, string yamlBody, int count, Action<string, int> writeMask, int height = 8, int width = 12)
    {
        Directory.CreateDirectory(Path.Combine(root, "images"));
        Directory.CreateDirectory(Path.Combine(root, "masks"));
        for (int i = 0; i < count; i++)
        {
            var gray = Enumerable.Range(0, height * width).Select(p => (p * 7 + i * 13) % 256).ToArray();
            WriteGray8(Path.Combine(root, "images", $"{i}.png"), gray, height, width);
            writeMask(Path.Combine(root, "masks", $"{i}.png"), i);
        }
        string path = Path.Combine(root, "dataset.yaml");
        File.WriteAllText(path, "name: fixture\nroot: .\nimages: images\nmasks: masks\nchannels: 1\n" + yamlBody);
        return path;
    }
}
