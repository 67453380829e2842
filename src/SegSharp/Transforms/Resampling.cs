using System.Runtime.CompilerServices;

namespace SegSharp.Transforms;

/// <summary>Pixel resampling shared by the geometric transforms. Image planes are CHW float32; masks HW int.</summary>
internal static class Resampling
{
    /// <summary>Bilinear resize with half-pixel centres (PyTorch's align_corners=False).</summary>
    public static float[] ResizeBilinear(float[] image, int channels, int height, int width, int newHeight, int newWidth)
    {
        var result = new float[channels * newHeight * newWidth];
        double scaleY = (double)height / newHeight, scaleX = (double)width / newWidth;
        var x0 = new int[newWidth];
        var x1 = new int[newWidth];
        var fx = new float[newWidth];
        for (int x = 0; x < newWidth; x++)
        {
            double sx = Math.Max((x + 0.5) * scaleX - 0.5, 0);
            x0[x] = Math.Min((int)sx, width - 1);
            x1[x] = Math.Min(x0[x] + 1, width - 1);
            fx[x] = (float)(sx - x0[x]);
        }
        for (int c = 0; c < channels; c++)
        {
            int plane = c * height * width, outPlane = c * newHeight * newWidth;
            for (int y = 0; y < newHeight; y++)
            {
                double sy = Math.Max((y + 0.5) * scaleY - 0.5, 0);
                int y0 = Math.Min((int)sy, height - 1), y1 = Math.Min(y0 + 1, height - 1);
                float fy = (float)(sy - y0);
                int row0 = plane + y0 * width, row1 = plane + y1 * width, outRow = outPlane + y * newWidth;
                for (int x = 0; x < newWidth; x++)
                    result[outRow + x] = Bilinear(image, row0, row1, x0[x], x1[x], fy, fx[x]);
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
    public static int[] ResizeNearest(int[] mask, int height, int width, int newHeight, int newWidth)
    {
        var result = new int[newHeight * newWidth];
        for (int y = 0; y < newHeight; y++)
        {
            int sy = Math.Min((int)((y + 0.5) * height / newHeight), height - 1);
            for (int x = 0; x < newWidth; x++)
            {
                int sx = Math.Min((int)((x + 0.5) * width / newWidth), width - 1);
                result[y * newWidth + x] = mask[sy * width + sx];
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
