using System.Globalization;
using System.Text;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace SegSharp.Evaluation;

/// <summary>Line charts of per-epoch curves, as PNG (ticks labelled) and as SVG (fully labelled, for the HTML report).</summary>
internal static class LineChart
{
    private const int Width = 640, Height = 360, Left = 70, Right = 20, Top = 20, Bottom = 40;

    public static Image<Rgb24> Png(IReadOnlyList<ChartSeries> series)
    {
        var image = new Image<Rgb24>(Width, Height, new Rgb24(255, 255, 255));
        var (xMin, xMax, yMin, yMax) = Bounds(series);
        var axis = new Rgb24(60, 60, 60);
        var grid = new Rgb24(225, 225, 225);
        foreach (double tick in Ticks(yMin, yMax))
        {
            int y = Y(tick, yMin, yMax);
            for (int x = Left; x < Width - Right; x++) image[x, y] = grid;
            string label = Label(tick);
            PixelFont.Draw(image, label, Left - 6 - PixelFont.Width(label, 2), y - 5, axis);
        }
        foreach (double tick in Ticks(xMin, xMax))
        {
            int x = X(tick, xMin, xMax);
            for (int y = Top; y < Height - Bottom; y++) image[x, y] = grid;
            string label = Label(tick);
            PixelFont.Draw(image, label, x - PixelFont.Width(label, 2) / 2, Height - Bottom + 8, axis);
        }
        for (int x = Left; x < Width - Right; x++) image[x, Height - Bottom] = axis;
        for (int y = Top; y <= Height - Bottom; y++) image[Left, y] = axis;
        foreach (var s in series)
        {
            var color = Parse(s.Color);
            for (int i = 1; i < s.Points.Count; i++)
                Line(image, X(s.Points[i - 1].X, xMin, xMax), Y(s.Points[i - 1].Y, yMin, yMax), X(s.Points[i].X, xMin, xMax), Y(s.Points[i].Y, yMin,
                    yMax), color);
            foreach (var p in s.Points)
                for (int dy = -2; dy <= 2; dy++)
                    for (int dx = -2; dx <= 2; dx++)
                        Set(image, X(p.X, xMin, xMax) + dx, Y(p.Y, yMin, yMax) + dy, color);
        }
        return image;
    }

    public static string Svg(string title, string xLabel, IReadOnlyList<ChartSeries> series)
    {
        var (xMin, xMax, yMin, yMax) = Bounds(series);
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture,
            $"<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {Width} {Height + 20}\" class=\"chart\" role=\"img\" aria-label=\"{title}\">");
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{Left}\" y=\"14\" class=\"title\">{Escape(title)}</text>");
        foreach (double tick in Ticks(yMin, yMax))
        {
            int y = Y(tick, yMin, yMax) + 20;
            svg.Append(CultureInfo.InvariantCulture,
                $"<line x1=\"{Left}\" y1=\"{y}\" x2=\"{Width - Right}\" y2=\"{y}\" class=\"grid\"/><text x=\"{Left - 6}\" y=\"{y + 4}\" " +
                    $"text-anchor=\"end\">{Label(tick)}</text>");
        }
        foreach (double tick in Ticks(xMin, xMax))
        {
            int x = X(tick, xMin, xMax);
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{x}\" y=\"{Height + 2}\" text-anchor=\"middle\">{Label(tick)}</text>");
        }
        svg.Append(CultureInfo.InvariantCulture,
            $"<text x=\"{(Left + Width - Right) / 2}\" y=\"{Height + 18}\" text-anchor=\"middle\">{Escape(xLabel)}</text>");
        int legend = Left + 10;
        foreach (var s in series)
        {
            var points = string.Join(" ", s.Points.Select(p => string.Create(CultureInfo.InvariantCulture, $"{X(p.X, xMin, xMax)},{Y(p.Y, yMin, yMax) + 20}")));
            svg.Append(CultureInfo.InvariantCulture, $"<polyline points=\"{points}\" fill=\"none\" stroke=\"{s.Color}\" stroke-width=\"2\"/>");
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{legend}\" y=\"40\" fill=\"{s.Color}\">■ {Escape(s.Name)}</text>");
            legend += 14 + 8 * s.Name.Length;
        }
        svg.Append("</svg>");
        return svg.ToString();
    }

    private static (double, double, double, double) Bounds(IReadOnlyList<ChartSeries> series)
    {
        var points = series.SelectMany(s => s.Points).Where(p => double.IsFinite(p.Y)).ToList();
        if (points.Count == 0) return (0, 1, 0, 1);
        double xMin = points.Min(p => p.X), xMax = points.Max(p => p.X), yMin = points.Min(p => p.Y), yMax = points.Max(p => p.Y);
        if (xMax <= xMin) xMax = xMin + 1;
        if (yMax - yMin < 1e-12) { yMin -= 0.5 * Math.Max(Math.Abs(yMin), 1e-3); yMax += 0.5 * Math.Max(Math.Abs(yMax), 1e-3); }
        double pad = (yMax - yMin) * 0.05;
        return (xMin, xMax, yMin - pad, yMax + pad);
    }

    private static IEnumerable<double> Ticks(double min, double max)
    {
        double step = Math.Pow(10, Math.Floor(Math.Log10((max - min) / 5)));
        foreach (double m in new[] { 1.0, 2.0, 5.0, 10.0 })
            if ((max - min) / (step * m) <= 6) { step *= m; break; }
        for (double t = Math.Ceiling(min / step) * step; t <= max + 1e-12; t += step) yield return Math.Round(t, 12);
    }

    private static string Label(double v)
    {
        if (v == 0) return "0"; // also -0.0, which a tick computed as min + k * step can land on
        double a = Math.Abs(v);
        if (a != 0 && (a < 1e-3 || a >= 1e5)) return v.ToString("0.#e0", CultureInfo.InvariantCulture);
        return v.ToString(a >= 100 ? "0" : a >= 1 ? "0.##" : "0.###", CultureInfo.InvariantCulture);
    }

    private static int X(double x, double min, double max) => Left + (int)Math.Round((x - min) / (max - min) * (Width - Left - Right));

    private static int Y(double y, double min, double max) => Height - Bottom - (int)Math.Round((y - min) / (max - min) * (Height - Top - Bottom));

    private static void Line(Image<Rgb24> image, int x0, int y0, int x1, int y1, Rgb24 color)
    {
        int steps = Math.Max(Math.Abs(x1 - x0), Math.Abs(y1 - y0));
        for (int i = 0; i <= steps; i++)
        {
            int x = x0 + (steps == 0 ? 0 : (x1 - x0) * i / steps), y = y0 + (steps == 0 ? 0 : (y1 - y0) * i / steps);
            Set(image, x, y, color);
            Set(image, x, y + 1, color);
        }
    }

    private static void Set(Image<Rgb24> image, int x, int y, Rgb24 color)
    {
        if (x >= 0 && y >= 0 && x < image.Width && y < image.Height) image[x, y] = color;
    }

    private static Rgb24 Parse(string hex) => new(Convert.ToByte(hex.Substring(1, 2), 16), Convert.ToByte(hex.Substring(3, 2), 16),
        Convert.ToByte(hex.Substring(5, 2), 16));

    private static string Escape(string text) => System.Net.WebUtility.HtmlEncode(text);
}
