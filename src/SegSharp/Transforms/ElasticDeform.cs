using SegSharp.Data;
using SegSharp.Runtime;

namespace SegSharp.Transforms;

/// <summary>
/// The U-Net paper's elastic deformation: with probability <see cref="Probability"/>, random displacement vectors
/// on a coarse <see cref="Grid"/> x <see cref="Grid"/> grid (each component normal with standard deviation
/// <see cref="Sigma"/> pixels), interpolated to one displacement per pixel by cubic convolution. The image is
/// resampled bilinearly and the mask by nearest neighbour at the same displaced positions, both mirrored at the
/// borders, so geometry stays joint and masks never blend.
/// </summary>
public sealed record ElasticDeform(int Grid, double Sigma, double Probability) : IJointTransform
{
    public Sample Apply(Sample s, SeededRandom random)
    {
        if (!random.NextBool(Probability)) return s;
        var nodesY = new double[Grid * Grid];
        var nodesX = new double[Grid * Grid];
        for (int i = 0; i < nodesY.Length; i++)
        {
            nodesY[i] = Sigma * random.NextGaussian();
            nodesX[i] = Sigma * random.NextGaussian();
        }
        return Warp(s, Field(nodesY, Grid, s.Height, s.Width), Field(nodesX, Grid, s.Height, s.Width));
    }

    /// <summary>
    /// A per-pixel field [height x width] interpolating <paramref name="nodes"/> (grid x grid, row-major, placed evenly
    /// from the first pixel to the last) with Keys' cubic convolution (a = -0.5); it passes through every node.
    /// </summary>
    internal static float[] Field(double[] nodes, int grid, int height, int width)
    {
        var rows = new double[grid * width];
        var wx = CubicWeights(grid, width);
        for (int r = 0; r < grid; r++)
        {
            for (int x = 0; x < width; x++) rows[r * width + x] = Interpolate(nodes, r * grid, 1, grid, wx[x]);
        }
        var field = new float[height * width];
        var wy = CubicWeights(grid, height);
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++) field[y * width + x] = (float)Interpolate(rows, x, width, grid, wy[y]);
        }
        return field;
    }

    /// <summary>Moves every pixel: output (y, x) reads the input at (y + dy, x + dx), mirrored at the borders.</summary>
    internal static Sample Warp(Sample s, float[] dy, float[] dx)
    {
        int h = s.Height, w = s.Width, plane = h * w;
        var image = new float[s.Image.Length];
        var mask = new int[plane];
        for (int y = 0; y < h; y++)
        {
            for (int x = 0; x < w; x++)
            {
                int p = y * w + x;
                double sy = Mirror(y + dy[p], h), sx = Mirror(x + dx[p], w);
                int y0 = Math.Min((int)sy, h - 1), x0 = Math.Min((int)sx, w - 1);
                int y1 = Math.Min(y0 + 1, h - 1), x1 = Math.Min(x0 + 1, w - 1);
                float fy = (float)(sy - y0), fx = (float)(sx - x0);
                for (int c = 0; c < s.Channels; c++)
                {
                    int o = c * plane;
                    image[o + p] = Resampling.Bilinear(s.Image, o + y0 * w, o + y1 * w, x0, x1, fy, fx);
                }
                mask[p] = s.Mask[(fy < 0.5f ? y0 : y1) * w + (fx < 0.5f ? x0 : x1)];
            }
        }
        return s.With(image, mask, h, w);
    }

    /// <summary>Reflects a coordinate into [0, n - 1] about the first and last pixel centres (scipy's 'mirror').</summary>
    internal static double Mirror(double v, int n)
    {
        if (n == 1) return 0;
        double period = 2.0 * (n - 1);
        v = Math.Abs(v) % period;
        return v > n - 1 ? period - v : v;
    }

    private static (int First, double[] Weights)[] CubicWeights(int grid, int length)
    {
        var result = new (int, double[])[length];
        for (int i = 0; i < length; i++)
        {
            double t = length == 1 ? 0 : (double)i * (grid - 1) / (length - 1);
            int k = Math.Min((int)t, grid - 1);
            double f = t - k;
            result[i] = (k - 1, new[] { Keys(1 + f), Keys(f), Keys(1 - f), Keys(2 - f) });
        }
        return result;
    }

    private static double Interpolate(double[] values, int offset, int stride, int grid, (int First, double[] Weights) at)
    {
        double sum = 0;
        for (int j = 0; j < 4; j++)
        {
            int k = Math.Clamp(at.First + j, 0, grid - 1);
            sum += at.Weights[j] * values[offset + k * stride];
        }
        return sum;
    }

    private static double Keys(double t)
    {
        t = Math.Abs(t);
        const double a = -0.5;
        if (t <= 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
        return t < 2 ? ((a * t - 5 * a) * t + 8 * a) * t - 4 * a : 0;
    }
}
