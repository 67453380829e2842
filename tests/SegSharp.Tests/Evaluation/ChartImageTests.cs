using SegSharp.Evaluation;
using SegSharp.Training;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace SegSharp.Tests.Evaluation;

public class ChartImageTests
{
    private static IReadOnlyList<EpochRecord> History() => Enumerable.Range(1, 8).Select(e => new EpochRecord
    {
        Epoch = e, Step = e * 10, TrainLoss = 1.0 / e, LR = 0.003 * (9 - e) / 8, ImagesPerSecond = 10, Seconds = 1,
        ValidationLoss = e % 2 == 0 ? 1.2 / e : null, MeanIoU = e % 2 == 0 ? 0.1 * e : null, MeanDice = e % 2 == 0 ? 0.11 * e : null,
    }).ToList();

    private static Image<Rgb24> Render(ReportChart chart) => Image.Load<Rgb24>(ChartImage.Png(chart));

    private static bool Has(Image<Rgb24> image, string hex, int top = 0, int bottom = int.MaxValue)
    {
        var color = new Rgb24(Convert.ToByte(hex[1..3], 16), Convert.ToByte(hex[3..5], 16), Convert.ToByte(hex[5..7], 16));
        for (int y = top; y < Math.Min(bottom, image.Height); y++)
            for (int x = 0; x < image.Width; x++)
                if (image[x, y].Equals(color)) return true;
        return false;
    }

    [Fact]
    public void Each_curve_is_a_titled_chart_with_a_line_per_series_and_the_best_epoch_marked()
    {
        var charts = TrainingCurves.From(History(), bestEpoch: 6);
        Assert.Equal(new[] { "loss.png", "miou.png", "lr.png" }, charts.Select(c => c.File));
        Assert.All(charts, c => Assert.Equal(6, c.BestEpoch));
        foreach (var chart in charts)
        {
            using var image = Render(chart);
            Assert.Equal((ChartImage.Width, ChartImage.Height), (image.Width, image.Height));
            foreach (var series in chart.Series) Assert.True(Has(image, series.Color), $"{chart.File}: no {series.Name} line in {series.Color}");
            Assert.True(Enumerable.Range(0, image.Width).Any(x => Enumerable.Range(0, 30).Any(y => image[x, y].R < 100)), $"{chart.File}: no title");
        }
        using var marked = Render(charts[0]);
        using var unmarked = Render(charts[0] with { BestEpoch = null });
        // The marker is a dashed vertical line across the data area: one column where a tall part changed.
        int tallest = Enumerable.Range(0, marked.Width)
            .Max(x => Enumerable.Range(0, marked.Height).Count(y => !marked[x, y].Equals(unmarked[x, y])));
        Assert.True(tallest > ChartImage.Height / 3, $"no best-epoch line (tallest changed column: {tallest} px)");
    }

    [Fact]
    public void The_svg_marks_the_best_epoch_too()
    {
        var chart = TrainingCurves.From(History(), bestEpoch: 6)[1];
        Assert.Contains("best.ckpt (epoch 6)", LineChart.Svg(chart.Title, "epoch", chart.Series, chart.BestEpoch));
        Assert.DoesNotContain("best.ckpt", LineChart.Svg(chart.Title, "epoch", chart.Series));
    }
}
