namespace SegSharp.Evaluation;

/// <summary>One chart of a report: the PNG file it is saved as, its title, and its lines.</summary>
public sealed record ReportChart(string File, string Title, IReadOnlyList<ChartSeries> Series);
