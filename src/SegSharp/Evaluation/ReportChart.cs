namespace SegSharp.Evaluation;

/// <summary>
/// One chart of a report: the PNG file it is saved as, its title, what its y axis measures (with units), its lines,
/// and the epoch whose weights are best.ckpt (marked), if known. The x axis is always the epoch.
/// </summary>
public sealed record ReportChart(string File, string Title, string YLabel, IReadOnlyList<ChartSeries> Series, int? BestEpoch = null);
