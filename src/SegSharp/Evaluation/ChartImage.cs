using ScottPlot;

namespace SegSharp.Evaluation;

/// <summary>
/// A report chart as a PNG a person can read on its own: title, axis labels, a legend naming each line, whole-epoch
/// ticks, and a dashed marker at the best epoch. Drawn with ScottPlot (SkiaSharp underneath; docs/dependencies.md).
/// </summary>
internal static class ChartImage
{
    public const int Width = 800, Height = 450;

    public static byte[] Png(ReportChart chart)
    {
        using var plot = new Plot();
        plot.Title(chart.Title);
        plot.XLabel("epoch");
        plot.YLabel(chart.YLabel);
        foreach (var series in chart.Series)
        {
            var points = series.Points.Where(p => double.IsFinite(p.Y)).ToList();
            var line = plot.Add.Scatter(points.Select(p => p.X).ToArray(), points.Select(p => p.Y).ToArray(), Color.FromHex(series.Color));
            line.LegendText = series.Name;
            line.LineWidth = 2;
            line.MarkerSize = 5;
        }
        if (chart.BestEpoch is int best)
        {
            var marker = plot.Add.VerticalLine(best, 1.5f, Colors.Gray, LinePattern.Dashed);
            marker.LegendText = $"best.ckpt (epoch {best})";
        }
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
        // Outside the data area, so the legend never hides the last epochs.
        plot.ShowLegend(Edge.Right);
        return plot.GetImageBytes(Width, Height, ImageFormat.Png);
    }
}
