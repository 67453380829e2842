namespace SegSharp.Evaluation;

/// <summary>One named series of (x, y) points with a colour (CSS hex, e.g. "#1f77b4").</summary>
public sealed record ChartSeries(string Name, IReadOnlyList<(double X, double Y)> Points, string Color);
