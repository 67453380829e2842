// Over 250 lines: images and masks share one decoder front (size limit, integrity check, error wording) that a split would repeat.
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Formats.Tiff;
using SixLabors.ImageSharp.Formats.Tiff.Constants;
using SixLabors.ImageSharp.PixelFormats;

namespace SegSharp.Data;

/// <summary>Decodes images (PNG, JPEG, BMP, TIFF incl. multi-page; 8- or 16-bit; gray, colour or N bands) to float32 CHW in [0, 1].</summary>
public static class ImageFiles
{
    public static readonly string[] Extensions = { ".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff" };

    /// <summary>
    /// The largest image decoded unless told otherwise: 150 megapixels (a 12000x12000 image, about 6 GB while decoded and
    /// converted). The size is read from the header first, so a small file declaring 30000x30000 (a decompression bomb) is
    /// refused before any pixel is decoded. Raise it with <c>max_image_pixels</c> in the dataset description or
    /// <c>predict --max-pixels</c>.
    /// </summary>
    public const long DefaultMaxPixels = 150_000_000;

    /// <summary>What <see cref="ReadImage"/> checks an image's bands against: the dataset's channels (the default) or a model's input.</summary>
    public const string DatasetChannels = "the dataset's channels", ModelChannels = "the model's input channels", ClassCount = "the dataset's class count";

    public static bool IsImage(string path) => Extensions.Contains(Path.GetExtension(path).ToLowerInvariant());

    /// <summary>
    /// Pixels as [channels, height, width]. One-page files convert as before for 1 (colour becomes gray by luminance) and 3
    /// (gray repeats, alpha is dropped) channels. Any other count, and every multi-page TIFF, is a stack of bands that must
    /// add up to <paramref name="channels"/> exactly: a gray page gives 1 band, gray+alpha 2, RGB 3, RGBA 4, pages in order.
    /// </summary>
    /// <param name="verify">Check the file is whole first (<see cref="ImageIntegrity"/>); a caller that checked it already may skip it.</param>
    /// <param name="maxPixels">Refuse, from the header and before decoding, an image of more pixels than this.</param>
    /// <param name="expected">Where <paramref name="channels"/> comes from, for the error when the bands do not match.</param>
    public static (float[] Pixels, int Height, int Width) ReadImage(string path, int channels, bool verify = true, long maxPixels = DefaultMaxPixels,
        string expected = DatasetChannels)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (FileNotFoundException)
        {
            throw new SegSharpException($"Image '{path}' does not exist. Check the dataset's images folder.");
        }
        return DecodeImage(bytes, path, channels, verify, maxPixels, expected);
    }

    /// <summary>
    /// <see cref="ReadImage"/> on bytes already in memory (an upload): the same size limit, integrity check, band rules and
    /// errors, naming <paramref name="path"/> (a file's path, or the name an upload goes by).
    /// </summary>
    public static (float[] Pixels, int Height, int Width) DecodeImage(byte[] bytes, string path, int channels, bool verify = true,
        long maxPixels = DefaultMaxPixels, string expected = DatasetChannels)
    {
        try
        {
            Check(bytes, path, "Image", verify, maxPixels);
            if (channels == 1)
            {
                using var gray = Image.Load<L16>(bytes);
                if (gray.Frames.Count == 1)
                {
                    var pixels = new float[gray.Height * gray.Width];
                    gray.ProcessPixelRows(rows =>
                    {
                        for (int y = 0; y < rows.Height; y++)
                        {
                            var row = rows.GetRowSpan(y);
                            for (int x = 0; x < row.Length; x++) pixels[y * rows.Width + x] = row[x].PackedValue / 65535f;
                        }
                    });
                    return (pixels, gray.Height, gray.Width);
                }
            }
            using var image = Image.Load<Rgba64>(bytes, out var format);
            if (channels == 3 && image.Frames.Count == 1) return (Planes(image.Frames.RootFrame, 3), image.Height, image.Width);
            return (Bands(image, format, path, channels, expected), image.Height, image.Width);
        }
        catch (Exception e) when (e is UnknownImageFormatException or InvalidImageContentException or NotSupportedException or ImageFormatException)
        {
            throw new SegSharpException($"Image '{path}' could not be decoded ({Reason(e)}). " + (expected == ModelChannels
                ? "Re-export it as PNG, JPEG, BMP or TIFF."
                : "Re-export it as PNG or remove it from the dataset."));
        }
    }

    /// <summary>The bands of every page, in order; refused, with what the file holds, unless they add up to <paramref name="channels"/>.</summary>
    private static float[] Bands(Image<Rgba64> image, IImageFormat format, string path, int channels, string expected)
    {
        var counts = image.Frames.Cast<ImageFrame<Rgba64>>().Select(frame => BandsOf(image, frame, format)).ToList();
        int total = counts.Sum();
        if (total != channels)
        {
            string layout = counts.Count == 1 ? $"{Describe(counts[0])}" : $"{counts.Count} pages: {string.Join(" + ", counts)}";
            throw new SegSharpException($"Image '{path}' has {total} band{(total == 1 ? "" : "s")} ({layout}) but {expected} is {channels}. Store " +
                $"{channels} bands per image (gray+alpha PNG: 2, RGBA PNG or TIFF: 4, a multi-page TIFF: its pages' bands added up), or " +
                expected switch
                {
                    ModelChannels => $"use a model trained on {total}-band images.",
                    ClassCount => $"list {total} classes.",
                    _ => $"set channels: {total}.",
                });
        }
        int plane = image.Height * image.Width;
        var pixels = new float[channels * plane];
        int band = 0;
        for (int f = 0; f < counts.Count; f++)
        {
            Planes(image.Frames[f], counts[f]).CopyTo(pixels, band * plane);
            band += counts[f];
        }
        return pixels;
    }

    private static string Describe(int bands) => bands switch { 1 => "gray", 2 => "gray+alpha", 3 => "RGB", _ => "RGBA" };

    /// <summary>How many bands a page stores: the PNG colour type, the TIFF samples per pixel, else gray for 8-bit files and RGB otherwise.</summary>
    private static int BandsOf(Image image, ImageFrame frame, IImageFormat format)
    {
        if (format.Name == "PNG")
        {
            return image.Metadata.GetPngMetadata().ColorType switch
            {
                PngColorType.Grayscale => 1,
                PngColorType.GrayscaleWithAlpha => 2,
                PngColorType.RgbWithAlpha => 4,
                _ => 3,
            };
        }
        if (format.Name == "TIFF")
        {
            var tiff = frame.Metadata.GetTiffMetadata();
            if (tiff.PhotometricInterpretation == TiffPhotometricInterpretation.PaletteColor) return 3;
            return Math.Clamp((int)(tiff.BitsPerSample?.Channels ?? 3), 1, 4);
        }
        return image.PixelType.BitsPerPixel == 8 ? 1 : 3;
    }

    /// <summary>
    /// A page as float planes in [0, 1]: 1 band is the red (gray) value, 2 gray and alpha, 3 RGB (a gray page repeats), 4 RGBA.
    /// </summary>
    private static float[] Planes(ImageFrame<Rgba64> frame, int bands)
    {
        int plane = frame.Height * frame.Width;
        var result = new float[bands * plane];
        frame.ProcessPixelRows(rows =>
        {
            for (int y = 0; y < rows.Height; y++)
            {
                var row = rows.GetRowSpan(y);
                for (int x = 0; x < row.Length; x++)
                {
                    int i = y * rows.Width + x;
                    var p = row[x];
                    if (bands == 1) result[i] = p.R / 65535f;
                    else if (bands == 2) { result[i] = p.R / 65535f; result[plane + i] = p.A / 65535f; }
                    else
                    {
                        result[i] = p.R / 65535f;
                        result[plane + i] = p.G / 65535f;
                        result[2 * plane + i] = p.B / 65535f;
                        if (bands == 4) result[3 * plane + i] = p.A / 65535f;
                    }
                }
            }
        });
        return result;
    }

    /// <summary>
    /// Raw mask values, row-major [height, width]: the stored integer for grayscale (8- or 16-bit), the palette
    /// index for indexed PNGs when <paramref name="palette"/> is set, and 0xRRGGBB for colour masks when
    /// <paramref name="rgb"/> is set. A grayscale mask saved as RGB with equal channels is read as gray.
    /// </summary>
    /// <param name="verify">Check the file is whole first (<see cref="ImageIntegrity"/>); a caller that checked it already may skip it.</param>
    /// <param name="maxPixels">Refuse, from the header and before decoding, a mask of more pixels than this.</param>
    public static (int[] Values, int Height, int Width) ReadMaskValues(string path, bool rgb, bool palette, bool verify = true,
        long maxPixels = DefaultMaxPixels)
    {
        try
        {
            byte[] bytes = Read(path, "Mask", verify, maxPixels);
            if (palette)
            {
                if (!IndexedPng.IsIndexed(bytes))
                    throw new SegSharpException($"Mask '{path}' is not a palette PNG, but the dataset says mask_encoding: palette. Use values or rgb, or " +
                        $"re-save the mask with a palette.");
                var (indices, h, w) = IndexedPng.Read(bytes);
                return (indices.Select(b => (int)b).ToArray(), h, w);
            }
            var info = Image.Identify(bytes) ?? throw new UnknownImageFormatException("unknown format");
            int bits = info.PixelType.BitsPerPixel;
            if (!rgb && bits == 16 && IsSingleChannel(path, bytes))
            {
                using var wide = Image.Load<L16>(bytes);
                return Collect(wide, p => p.PackedValue);
            }
            using var image = Image.Load<Rgb24>(bytes);
            if (rgb) return Collect(image, p => p.R << 16 | p.G << 8 | p.B);
            var (values, height, width) = Collect(image, p => p.R == p.G && p.G == p.B ? p.R : -1 - (p.R << 16 | p.G << 8 | p.B));
            int colored = Array.FindIndex(values, v => v < 0);
            if (colored >= 0)
                throw new SegSharpException($"Mask '{path}' has colour pixels (first at x={colored % width}, y={colored / width}) but the dataset says " +
                    $"mask_encoding: {(palette ? "palette" : "values/index")}. Set mask_encoding: rgb with class colours.");
            return (values, height, width);
        }
        catch (Exception e) when (e is UnknownImageFormatException or InvalidImageContentException or NotSupportedException
            or ImageFormatException or InvalidDataException)
        {
            throw new SegSharpException($"Mask '{path}' could not be decoded ({Reason(e)}). Re-export it as PNG or remove the pair.");
        }
        catch (FileNotFoundException)
        {
            throw new SegSharpException($"Mask '{path}' does not exist. Check the dataset's masks folder.");
        }
    }

    /// <summary>Writes 8-bit gray values (0..255) as a PNG, atomically (temp file + rename).</summary>
    public static void WriteGray(string path, int[] values, int height, int width) =>
        Foundation.AtomicFile.WriteAllBytes(path, EncodeGray(values, height, width));

    /// <summary>8-bit gray values (0..255) as PNG bytes.</summary>
    public static byte[] EncodeGray(int[] values, int height, int width)
    {
        using var image = new Image<L8>(width, height);
        image.ProcessPixelRows(rows =>
        {
            for (int y = 0; y < rows.Height; y++)
            {
                var row = rows.GetRowSpan(y);
                for (int x = 0; x < row.Length; x++) row[x] = new L8((byte)values[y * width + x]);
            }
        });
        using var stream = new MemoryStream();
        image.SaveAsPng(stream);
        return stream.ToArray();
    }

    /// <summary>Refuses a size over the pixel limit, naming the file, the size and both ways out.</summary>
    public static void CheckPixels(string path, string what, long width, long height, long maxPixels)
    {
        if (width * height <= maxPixels) return;
        var invariant = System.Globalization.CultureInfo.InvariantCulture;
        string megapixels = (width * height / 1e6).ToString("0.#", invariant), limit = (maxPixels / 1e6).ToString("0.#", invariant);
        string memory = (width * height * 40 / 1e9).ToString("F0", invariant);
        throw new SegSharpException($"{what} '{path}' declares {width}x{height} pixels ({megapixels} MP), over the {limit} MP limit. Shrink or " +
            $"split it, or change the limit (max_image_pixels in the dataset description, predict --max-pixels) if the machine has about {memory} GB " +
            "for it.");
    }

    /// <summary>Width and height from the file header, without decoding pixels.</summary>
    public static (int Height, int Width) ReadSize(string path, long maxPixels = DefaultMaxPixels)
    {
        try
        {
            var info = Image.Identify(path) ?? throw new UnknownImageFormatException("unknown format");
            CheckPixels(path, "Image", info.Width, info.Height, maxPixels);
            return (info.Height, info.Width);
        }
        catch (Exception e) when (e is UnknownImageFormatException or InvalidImageContentException or NotSupportedException or ImageFormatException)
        {
            throw new SegSharpException($"Image '{path}' could not be decoded ({Reason(e)}). Re-export it as PNG or remove it.");
        }
    }

    /// <summary>
    /// The file's bytes, refused when its header declares more than <paramref name="maxPixels"/> pixels and, with
    /// <paramref name="verify"/>, when the file is truncated or corrupt.
    /// </summary>
    private static byte[] Read(string path, string what, bool verify, long maxPixels)
    {
        byte[] bytes = File.ReadAllBytes(path);
        Check(bytes, path, what, verify, maxPixels);
        return bytes;
    }

    /// <summary>Refuses bytes whose header declares more than <paramref name="maxPixels"/> pixels, or (with verify) a damaged file.</summary>
    private static void Check(byte[] bytes, string path, string what, bool verify, long maxPixels)
    {
        var header = Image.Identify(bytes) ?? throw new UnknownImageFormatException("unknown format");
        CheckPixels(path, what, header.Width, header.Height, maxPixels);
        if (verify && ImageIntegrity.Problem(bytes) is { } problem)
            throw new SegSharpException($"{what} '{path}' is damaged ({problem}). Copy it again from its source, or remove it.");
    }

    private static string Reason(Exception e) => e is UnknownImageFormatException
        ? "not a recognised image format, or the header is corrupt"
        : e.Message.Split('\n')[0].Trim();

    private static bool IsSingleChannel(string path, byte[] bytes)
    {
        // 16 bits per pixel is either 16-bit gray or 8-bit gray+alpha; only the first holds wide values.
        if (!Path.GetExtension(path).Equals(".png", StringComparison.OrdinalIgnoreCase)) return true;
        return bytes.Length >= 26 && bytes[25] == 0 && bytes[24] == 16;
    }

    private static (int[] Values, int Height, int Width) Collect<TPixel>(Image<TPixel> image, Func<TPixel, int> value)
        where TPixel : unmanaged, IPixel<TPixel>
    {
        var values = new int[image.Height * image.Width];
        image.ProcessPixelRows(rows =>
        {
            for (int y = 0; y < rows.Height; y++)
            {
                var row = rows.GetRowSpan(y);
                for (int x = 0; x < row.Length; x++) values[y * rows.Width + x] = value(row[x]);
            }
        });
        return (values, image.Height, image.Width);
    }
}
