namespace SegSharp.Losses;

/// <summary>
/// The U-Net paper's separation weights (Ronneberger et al. 2015, eq. 2): for a pixel outside the objects,
/// w0 · exp(-(d1 + d2)² / (2σ²)), where d1 and d2 are its Euclidean distances to the nearest and the second-nearest
/// object; objects are the 4-connected regions of one class. Large on thin gaps between touching objects (the
/// membranes between cells), zero inside objects, on ignored pixels and where fewer than two objects are near.
/// Distances are exact within 5.3σ of each object's bounding box, beyond which the term is below w0 · 1e-6.
/// </summary>
public static class BorderWeights
{
    /// <summary>The weight map of one mask [height x width] of class indices.</summary>
    public static float[] Compute(ReadOnlySpan<long> mask, int height, int width, long objectClass, long ignoreIndex, double w0, double sigma)
    {
        var result = new float[height * width];
        if (w0 == 0) return result;
        var labels = Label(mask, height, width, objectClass, out var boxes);
        if (boxes.Count < 2) return result;
        int reach = (int)Math.Ceiling(5.3 * sigma);
        var d1 = new float[height * width];
        var d2 = new float[height * width];
        Array.Fill(d1, float.PositiveInfinity);
        Array.Fill(d2, float.PositiveInfinity);
        for (int id = 0; id < boxes.Count; id++)
        {
            var (top, left, bottom, right) = boxes[id];
            int y0 = Math.Max(0, top - reach), y1 = Math.Min(height - 1, bottom + reach);
            int x0 = Math.Max(0, left - reach), x1 = Math.Min(width - 1, right + reach);
            int h = y1 - y0 + 1, w = x1 - x0 + 1;
            var squared = new double[h * w];
            for (int y = 0; y < h; y++)
            {
                for (int x = 0; x < w; x++) squared[y * w + x] = labels[(y0 + y) * width + x0 + x] == id + 1 ? 0 : double.PositiveInfinity;
            }
            DistanceTransform.Squared(squared, h, w);
            for (int y = 0; y < h; y++)
            {
                for (int x = 0; x < w; x++)
                {
                    int p = (y0 + y) * width + x0 + x;
                    float d = (float)Math.Sqrt(squared[y * w + x]);
                    if (d < d1[p]) (d1[p], d2[p]) = (d, d1[p]);
                    else if (d < d2[p]) d2[p] = d;
                }
            }
        }
        double denominator = 2 * sigma * sigma;
        for (int p = 0; p < result.Length; p++)
        {
            if (labels[p] != 0 || mask[p] == ignoreIndex || float.IsPositiveInfinity(d2[p])) continue;
            double sum = d1[p] + d2[p];
            result[p] = (float)(w0 * Math.Exp(-sum * sum / denominator));
        }
        return result;
    }

    /// <summary>4-connected regions of <paramref name="objectClass"/>, numbered from 1; 0 elsewhere. Boxes are inclusive.</summary>
    private static int[] Label(ReadOnlySpan<long> mask, int height, int width, long objectClass, out List<(int Top, int Left, int Bottom, int Right)> boxes)
    {
        var labels = new int[height * width];
        boxes = new List<(int, int, int, int)>();
        var stack = new Stack<int>();
        for (int start = 0; start < labels.Length; start++)
        {
            if (mask[start] != objectClass || labels[start] != 0) continue;
            int id = boxes.Count + 1;
            int top = start / width, bottom = top, left = start % width, right = left;
            labels[start] = id;
            stack.Push(start);
            while (stack.Count > 0)
            {
                int p = stack.Pop(), y = p / width, x = p % width;
                top = Math.Min(top, y);
                bottom = Math.Max(bottom, y);
                left = Math.Min(left, x);
                right = Math.Max(right, x);
                for (int k = 0; k < 4; k++)
                {
                    int q = k switch
                    {
                        0 => y > 0 ? p - width : -1,
                        1 => y < height - 1 ? p + width : -1,
                        2 => x > 0 ? p - 1 : -1,
                        _ => x < width - 1 ? p + 1 : -1,
                    };
                    if (q < 0 || labels[q] != 0 || mask[q] != objectClass) continue;
                    labels[q] = id;
                    stack.Push(q);
                }
            }
            boxes.Add((top, left, bottom, right));
        }
        return labels;
    }
}

/// <summary>Exact squared Euclidean distance transform (Felzenszwalb and Huttenlocher): rows, then columns.</summary>
internal static class DistanceTransform
{
    /// <summary>In place: entries of 0 are the features, +∞ elsewhere; afterwards each holds the squared distance to the nearest feature.</summary>
    public static void Squared(double[] grid, int height, int width)
    {
        int n = Math.Max(height, width);
        var f = new double[n];
        var d = new double[n];
        var v = new int[n];
        var z = new double[n + 1];
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++) f[x] = grid[y * width + x];
            OneDimension(f, d, v, z, width);
            for (int x = 0; x < width; x++) grid[y * width + x] = d[x];
        }
        for (int x = 0; x < width; x++)
        {
            for (int y = 0; y < height; y++) f[y] = grid[y * width + x];
            OneDimension(f, d, v, z, height);
            for (int y = 0; y < height; y++) grid[y * width + x] = d[y];
        }
    }

    private static void OneDimension(double[] f, double[] d, int[] v, double[] z, int n)
    {
        int k = -1;
        for (int q = 0; q < n; q++)
        {
            if (double.IsPositiveInfinity(f[q])) continue;
            while (k >= 0)
            {
                double s = ((f[q] + (double)q * q) - (f[v[k]] + (double)v[k] * v[k])) / (2.0 * (q - v[k]));
                if (s > z[k]) break;
                k--;
            }
            k++;
            v[k] = q;
            z[k] = k == 0 ? double.NegativeInfinity : ((f[q] + (double)q * q) - (f[v[k - 1]] + (double)v[k - 1] * v[k - 1])) / (2.0 * (q - v[k - 1]));
            z[k + 1] = double.PositiveInfinity;
        }
        if (k < 0)
        {
            Array.Fill(d, double.PositiveInfinity, 0, n);
            return;
        }
        int j = 0;
        for (int q = 0; q < n; q++)
        {
            while (z[j + 1] < q) j++;
            double dq = q - v[j];
            d[q] = dq * dq + f[v[j]];
        }
    }
}
