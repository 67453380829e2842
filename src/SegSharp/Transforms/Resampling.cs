using System.Runtime.CompilerServices;

namespace SegSharp.Transforms;

/// <summary>Pixel resampling shared by the geometric transforms. Image planes are CHW float32; masks HW int.</summary>
internal static class Resampling
{
    /// <summary>Bilinear resize with half-pixel centres (PyTorch's align_corners=False).</summary>
    public static float[] ResizeBilinear(float[] image, int channels, int height, int width, int newHeight, int newWidth) =>
        ResizeBilinearWindow(image, channels, height, width, newHeight, newWidth, 0, 0, newHeight, newWidth, 0f);

    /// <summary>
    /// The window [top, top+h) x [left, left+w) of <see cref="ResizeBilinear"/>'s result, computed without the rest: every
    /// pixel by the same arithmetic, so equal to resizing and then cutting; positions outside the resized image read
    /// <paramref name="fill"/>.
    /// </summary>
    public static float[] ResizeBilinearWindow(float[] image, int channels, int height, int width, int newHeight, int newWidth,
        int top, int left, int windowHeight, int windowWidth, float fill)
    {
        var result = new float[channels * windowHeight * windowWidth];
        double scaleY = (double)height / newHeight, scaleX = (double)width / newWidth;
        var x0 = new int[windowWidth];
        var x1 = new int[windowWidth];
        var fx = new float[windowWidth];
        var inside = new bool[windowWidth];
        for (int wx = 0; wx < windowWidth; wx++)
        {
            int x = left + wx;
            inside[wx] = x >= 0 && x < newWidth;
            double sx = Math.Max((x + 0.5) * scaleX - 0.5, 0);
            x0[wx] = Math.Clamp((int)sx, 0, width - 1);
            x1[wx] = Math.Min(x0[wx] + 1, width - 1);
            fx[wx] = (float)(sx - x0[wx]);
        }
        for (int c = 0; c < channels; c++)
        {
            int plane = c * height * width, outPlane = c * windowHeight * windowWidth;
            for (int wy = 0; wy < windowHeight; wy++)
            {
                int y = top + wy, outRow = outPlane + wy * windowWidth;
                if (y < 0 || y >= newHeight)
                {
                    Array.Fill(result, fill, outRow, windowWidth);
                    continue;
                }
                double sy = Math.Max((y + 0.5) * scaleY - 0.5, 0);
                int y0 = Math.Min((int)sy, height - 1), y1 = Math.Min(y0 + 1, height - 1);
                float fy = (float)(sy - y0);
                int row0 = plane + y0 * width, row1 = plane + y1 * width;
                for (int wx = 0; wx < windowWidth; wx++)
                    result[outRow + wx] = inside[wx] ? Bilinear(image, row0, row1, x0[wx], x1[wx], fy, fx[wx]) : fill;
            }
        }
        return result;
    }

    /// <summary>
    /// The bilinear blend of four pixels: columns <paramref name="x0"/> and <paramref name="x1"/> of the rows starting at
    /// <paramref name="row0"/> and <paramref name="row1"/>, weighted by the fractions <paramref name="fy"/> and <paramref name="fx"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Bilinear(float[] image, int row0, int row1, int x0, int x1, float fy, float fx)
    {
        float top = image[row0 + x0] + (image[row0 + x1] - image[row0 + x0]) * fx;
        float bottom = image[row1 + x0] + (image[row1 + x1] - image[row1 + x0]) * fx;
        return top + (bottom - top) * fy;
    }

    /// <summary>Nearest-neighbour resize: every output value is one of the input values, never a blend.</summary>
    public static int[] ResizeNearest(int[] mask, int height, int width, int newHeight, int newWidth) =>
        ResizeNearestWindow(mask, height, width, newHeight, newWidth, 0, 0, newHeight, newWidth, 0);

    /// <summary>The window [top, top+h) x [left, left+w) of <see cref="ResizeNearest"/>'s result; outside it, <paramref name="fill"/>.</summary>
    public static int[] ResizeNearestWindow(int[] mask, int height, int width, int newHeight, int newWidth, int top, int left, int windowHeight,
        int windowWidth, int fill)
    {
        var result = new int[windowHeight * windowWidth];
        for (int wy = 0; wy < windowHeight; wy++)
        {
            int y = top + wy;
            if (y < 0 || y >= newHeight)
            {
                Array.Fill(result, fill, wy * windowWidth, windowWidth);
                continue;
            }
            int sy = Math.Min((int)((y + 0.5) * height / newHeight), height - 1);
            for (int wx = 0; wx < windowWidth; wx++)
            {
                int x = left + wx;
                if (x < 0 || x >= newWidth)
                {
                    result[wy * windowWidth + wx] = fill;
                    continue;
                }
                int sx = Math.Min((int)((x + 0.5) * width / newWidth), width - 1);
                result[wy * windowWidth + wx] = mask[sy * width + sx];
            }
        }
        return result;
    }

    /// <summary>
    /// Copies the window [top, top+h) x [left, left+w) of a CHW plane stack; positions outside the source read
    /// <paramref name="fill"/>. Used by crops that may pad.
    /// </summary>
    public static T[] Window<T>(T[] source, int channels, int height, int width, int top, int left, int newHeight, int newWidth, T fill)
    {
        var result = new T[channels * newHeight * newWidth];
        for (int c = 0; c < channels; c++)
        {
            for (int y = 0; y < newHeight; y++)
            {
                int sy = top + y;
                int outRow = (c * newHeight + y) * newWidth;
                if (sy < 0 || sy >= height)
                {
                    Array.Fill(result, fill, outRow, newWidth);
                    continue;
                }
                for (int x = 0; x < newWidth; x++)
                {
                    int sx = left + x;
                    result[outRow + x] = sx >= 0 && sx < width ? source[(c * height + sy) * width + sx] : fill;
                }
            }
        }
        return result;
    }

    /// <summary>Maps each output pixel (y, x) to a source pixel with <paramref name="map"/>; for flips and 90° turns.</summary>
    public static T[] Remap<T>(T[] source, int channels, int height, int width, int newHeight, int newWidth, Func<int, int, (int Y, int X)> map)
    {
        var result = new T[channels * newHeight * newWidth];
        for (int y = 0; y < newHeight; y++)
        {
            for (int x = 0; x < newWidth; x++)
            {
                var (sy, sx) = map(y, x);
                for (int c = 0; c < channels; c++)
                    result[(c * newHeight + y) * newWidth + x] = source[(c * height + sy) * width + sx];
            }
        }
        return result;
    }
}
