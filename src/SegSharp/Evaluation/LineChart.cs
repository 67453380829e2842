using System.Globalization;
using System.Text;

namespace SegSharp.Evaluation;

/// <summary>Line charts of per-epoch curves as SVG for the HTML report (the PNGs are drawn by <see cref="ChartImage"/>).</summary>
internal static class LineChart
{
    private const int Width = 640, Height = 360, Left = 70, Right = 20, Top = 20, Bottom = 40;

    /// <param name="bestEpoch">The epoch of best.ckpt, drawn as a dashed vertical line; null for none.</param>
    public static string Svg(string title, string xLabel, IReadOnlyList<ChartSeries> series, int? bestEpoch = null)
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
        if (bestEpoch is int best && best >= xMin && best <= xMax)
        {
            int x = X(best, xMin, xMax);
            svg.Append(CultureInfo.InvariantCulture,
                $"<line x1=\"{x}\" y1=\"{Top + 20}\" x2=\"{x}\" y2=\"{Height - Bottom + 20}\" stroke=\"#777\" stroke-dasharray=\"5,4\"/>" +
                $"<text x=\"{x + 4}\" y=\"{Top + 32}\" fill=\"#555\">best.ckpt (epoch {best})</text>");
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

    private static string Escape(string text) => System.Net.WebUtility.HtmlEncode(text);
}
