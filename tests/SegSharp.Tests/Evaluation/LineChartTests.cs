using System.Text.RegularExpressions;
using SegSharp.Evaluation;

namespace SegSharp.Tests.Evaluation;

public sealed class LineChartTests
{
    private static List<string> YLabels(string svg) =>
        Regex.Matches(svg, "<text x=\"64\" y=\"[0-9]+\" text-anchor=\"end\">([^<]*)</text>").Select(m => m.Groups[1].Value).ToList();

    [Fact]
    public void Learning_rate_decaying_to_zero_gets_a_plain_zero_tick_not_minus_zero()
    {
        // A cosine schedule ends at 0: ticks from Ceiling(min / step) * step can land on -0.0.
        var series = new ChartSeries("lr", new List<(double, double)> { (1, 0.003), (2, 0.0026), (3, 0.0018), (4, 0.001), (5, 0.0003), (6, 0) }, "#ff7f0e");
        var labels = YLabels(LineChart.Svg("LR", "epoch", new[] { series }));
        Assert.Equal(new[] { "0", "0.001", "0.002", "0.003" }, labels);
    }

    [Fact]
    public void Y_ticks_cover_the_data_range_in_round_steps()
    {
        var series = new ChartSeries("loss", new List<(double, double)> { (1, 0.9), (2, 0.68), (3, 0.47) }, "#1f77b4");
        var labels = YLabels(LineChart.Svg("loss", "epoch", new[] { series }));
        Assert.Equal(new[] { "0.5", "0.6", "0.7", "0.8", "0.9" }, labels);
    }
}
