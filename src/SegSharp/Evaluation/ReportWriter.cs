using SegSharp.Configuration;
using System.Globalization;
using System.Net;
using System.Text;
using SegSharp.Foundation;

namespace SegSharp.Evaluation;

/// <summary>
/// Writes an evaluation to a folder: metrics.json, per_class.csv, confusion.png, overlays/*.png, curves
/// (loss.png, miou.png, lr.png from the run's metrics log) and report.html, one self-contained page with every
/// image inlined, readable offline.
/// </summary>
public static class ReportWriter
{
    public const string EmptyClassPolicy =
        "A class absent from both ground truth and prediction has no IoU or Dice and is excluded from the means (never NaN, never counted as 1 or 0).";

    /// <param name="curves">Training curves to draw (none when the model's run folder is not at hand).</param>
    public static string Write(string directory, EvaluatedSplit outcome, IReadOnlyList<ReportChart> curves, string title, string checkpoint)
    {
        Directory.CreateDirectory(directory);
        var overlays = Path.Combine(directory, "overlays");
        Directory.CreateDirectory(overlays);
        var m = outcome.Result.Metrics;
        WriteMetricsJson(Path.Combine(directory, "metrics.json"), outcome, checkpoint);
        AtomicFile.WriteAllText(Path.Combine(directory, "per_class.csv"), PerClassCsv(m));
        if (!m.MultiLabel)
            using (var confusion = ConfusionMatrixImage.Render(m.Confusion)) OverlayRenderer.SavePng(confusion, Path.Combine(directory, "confusion.png"));
        foreach (var (kind, score, png) in outcome.Panels)
            AtomicFile.WriteAllBytes(Path.Combine(overlays, $"{OptionNames<PanelKind>.Name(kind)}-{Safe(score.Name)}.png"), png);
        foreach (var curve in curves) AtomicFile.WriteAllBytes(Path.Combine(directory, curve.File), ChartImage.Png(curve));
        string html = Html(outcome, curves, title, checkpoint);
        string path = Path.Combine(directory, "report.html");
        AtomicFile.WriteAllText(path, html);
        return path;
    }

    private static void WriteMetricsJson(string path, EvaluatedSplit outcome, string checkpoint)
    {
        var m = outcome.Result.Metrics;
        var json = new
        {
            split = outcome.Split, checkpoint, precision = outcome.Precision,
            memory_format = outcome.MemoryFormat, dataset = outcome.Description.Name, images = outcome.Result.Images.Count,
                pixels = m.Pixels, task = OptionNames<Data.SegmentationTask>.Name(outcome.Description.Task),
            mean_iou = m.MeanIoU, mean_dice = m.MeanDice, pixel_accuracy = m.PixelAccuracy, mean_class_accuracy = m.MeanClassAccuracy,
            mean_precision = m.MeanPrecision, mean_recall = m.MeanClassAccuracy,
            frequency_weighted_iou = m.FrequencyWeightedIoU, loss = outcome.Result.Loss, excluded_classes = m.ExcludedClasses,
            empty_class_policy = EmptyClassPolicy,
            test_time_augmentation = TestTimeAugmentation.Describe(outcome.FlipTta, outcome.TtaScales),
            tta_passes = TestTimeAugmentation.Passes(outcome.FlipTta, outcome.TtaScales),
            tta_work_factor = TestTimeAugmentation.WorkFactor(outcome.FlipTta, outcome.TtaScales),
            per_class = m.PerClass.Select(c => new { name = c.Name, iou = c.IoU, dice = c.Dice, precision = c.Precision, recall = c.Recall,
                true_positives = c.TruePositives, false_positives = c.FalsePositives, false_negatives = c.FalseNegatives, true_negatives = c.TrueNegatives,
                support = c.Support }),
            // Multilabel has no class-by-class confusion: each class's TP/FP/FN/TN above are its counts.
            confusion = m.MultiLabel ? null : Enumerable.Range(0, m.Confusion.GetLength(0)).Select(t => Enumerable.Range(0, m.Confusion.GetLength(1))
                .Select(p => m.Confusion[t, p]).ToArray()),
            per_image = outcome.Result.Images.Select(s => new { name = s.Name, mean_iou = s.MeanIoU, mean_dice = s.MeanDice }),
        };
        AtomicFile.WriteAllText(path, System.Text.Json.JsonSerializer.Serialize(json, JsonFormats.Pretty) + "\n");
    }

    private static string PerClassCsv(SegmentationMetrics m)
    {
        var csv = new StringBuilder("class,iou,dice,precision,recall,true_positives,false_positives,false_negatives,support\n");
        foreach (var c in m.PerClass)
            csv.Append(CultureInfo.InvariantCulture,
                $"{Csv.Field(c.Name)},{F(c.IoU)},{F(c.Dice)},{F(c.Precision)},{F(c.Recall)}," +
                $"{c.TruePositives},{c.FalsePositives},{c.FalseNegatives},{c.Support}\n");
        return csv.ToString();
    }

    private static string Html(EvaluatedSplit outcome, IReadOnlyList<ReportChart> curves, string title, string checkpoint)
    {
        var m = outcome.Result.Metrics;
        var h = new StringBuilder();
        h.Append("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>").Append(E(title)).Append("</title><style>")
         .Append("body{font-family:system-ui,-apple-system,'DejaVu Sans',sans-serif;margin:2rem auto;max-width:1100px;color:#222;padding:0 1rem}")
         .Append("h1{margin-bottom:.2rem}.sub{color:#666;margin-top:0}.cards{display:flex;flex-wrap:wrap;gap:1rem;margin:1.5rem 0}")
         .Append(".card{border:1px solid #ddd;border-radius:8px;padding:.8rem 1.2rem;min-width:140px}.card b{display:block;font-size:1.6rem}")
         .Append("table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ddd;padding:.35rem " +
             ".7rem;text-align:right}th{background:#f5f5f5}td:first-child,th:first-child{text-align:left}")
         .Append(".chart{width:100%;max-width:640px;font-size:11px}.chart .grid{stroke:#e5e5e5}.chart .title{font-size:13px;font-weight:600}")
         .Append("figure{margin:1rem 0}figure img{max-width:100%;image-rendering:pixelated;border:1px solid #ddd}figcaption{color:#555;font-size:.9rem}")
         .Append(".swatch{display:inline-block;width:.9em;height:.9em;border-radius:2px;vertical-align:middle;margin-right:.3em}")
         .Append(".note{color:#555;font-size:.9rem}")
         .Append("</style></head><body>");
        h.Append("<h1>").Append(E(title)).Append("</h1><p class=\"sub\">").Append(E($"{outcome.Description.Name}, split '{outcome.Split}': " +
            $"{outcome.Result.Images.Count} images, {m.Pixels:N0} labelled pixels. Checkpoint: {checkpoint}. " +
            $"Test-time augmentation: {TestTimeAugmentation.Describe(outcome.FlipTta, outcome.TtaScales)}.")).Append("</p>");
        h.Append("<div class=\"cards\">");
        foreach (var (label, value) in new[] { ("mean IoU", m.MeanIoU), ("mean Dice", m.MeanDice), (m.MultiLabel ? "label accuracy" : "pixel accuracy",
            m.PixelAccuracy),
            ("mean class accuracy (recall)", m.MeanClassAccuracy), ("mean precision", m.MeanPrecision), ("frequency-weighted IoU", m.FrequencyWeightedIoU) })
            h.Append(CultureInfo.InvariantCulture, $"<div class=\"card\"><b>{value:F4}</b>{label}</div>");
        h.Append("</div>");
        h.Append("<h2>Per class</h2><table><tr><th>class</th><th>IoU</th><th>Dice</th><th>precision</th><th>recall</th><th>pixels (truth)</th></tr>");
        foreach (var (c, i) in m.PerClass.Select((c, i) => (c, i)))
        {
            var color = outcome.Description.Classes[i].Color;
            h.Append(CultureInfo.InvariantCulture,
                $"<tr><td><span class=\"swatch\" " +
                    $"style=\"background:rgb({color[0]},{color[1]},{color[2]})\"></span>{E(c.Name)}</td>" +
                    $"<td>{F(c.IoU, "excluded")}</td><td>{F(c.Dice, "excluded")}</td><td>{F(c.Precision, "—")}</td><td>{F(c.Recall, "—")}</td>" +
                    $"<td>{c.Support:N0}</td></tr>");
        }
        h.Append("</table><p class=\"note\">").Append(E(EmptyClassPolicy))
            .Append(m.ExcludedClasses.Count > 0 ? E($" Excluded here: {string.Join(", ", m.ExcludedClasses)}.") : " No class was excluded.").Append("</p>");
        if (m.MultiLabel) AppendLabelCounts(h, m);
        else AppendConfusion(h, m);
        if (curves.Count > 0)
        {
            h.Append("<h2>Training curves</h2>");
            foreach (var curve in curves) h.Append("<figure>").Append(LineChart.Svg(curve.Title, "epoch", curve.Series, curve.BestEpoch)).Append("</figure>");
        }
        foreach (var kind in Enum.GetValues<PanelKind>())
        {
            var panels = outcome.Panels.Where(p => p.Kind == kind).ToList();
            if (panels.Count == 0) continue;
            h.Append(kind switch { PanelKind.Sample => "<h2>Sample predictions</h2>", PanelKind.Worst => "<h2>Worst images by IoU</h2>" });
            h.Append("<p class=\"note\">Each row: image | ground truth | prediction | errors (green right, red wrong, grey ignored).</p>");
            foreach (var (_, score, png) in panels)
                h.Append(Img(png, score.Name, string.Create(CultureInfo.InvariantCulture,
                    $"{score.Name}: mean IoU {score.MeanIoU:F4}, mean Dice {score.MeanDice:F4}")));
        }
        h.Append("<p class=\"note\">Generated by SegSharp on ").Append(DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm 'UTC'",
            CultureInfo.InvariantCulture)).Append(".</p></body></html>\n");
        return h.ToString();
    }

    /// <summary>Multiclass: the class-by-class confusion matrix, as a table and a row-normalised picture.</summary>
    private static void AppendConfusion(StringBuilder h, SegmentationMetrics m)
    {
        h.Append("<h2>Confusion matrix</h2><p class=\"note\">Rows: true class; columns: predicted class. Counts in pixels; the picture is normalised per " +
            "row.</p><table><tr><th>truth \\ predicted</th>");
        foreach (var c in m.PerClass) h.Append("<th>").Append(E(c.Name)).Append("</th>");
        h.Append("</tr>");
        for (int t = 0; t < m.PerClass.Count; t++)
        {
            h.Append("<tr><td>").Append(E(m.PerClass[t].Name)).Append("</td>");
            for (int p = 0; p < m.PerClass.Count; p++) h.Append(CultureInfo.InvariantCulture, $"<td>{m.Confusion[t, p]:N0}</td>");
            h.Append("</tr>");
        }
        h.Append("</table>");
        using (var confusion = ConfusionMatrixImage.Render(m.Confusion)) h.Append(Img(OverlayRenderer.Png(confusion), "confusion matrix",
            "Confusion matrix, row-normalised (%)"));
    }

    /// <summary>Multilabel: each class's own counts (there is no class-by-class confusion when classes overlap).</summary>
    private static void AppendLabelCounts(StringBuilder h, SegmentationMetrics m)
    {
        h.Append("<h2>Per-class counts</h2><p class=\"note\">Multilabel: each class is judged on its own over the labelled pixels (present when " +
            "its probability exceeds the threshold). Label accuracy is the share of correct pixel-and-class decisions.</p><table><tr><th>class</th>" +
            "<th>true positives</th><th>false positives</th><th>false negatives</th><th>true negatives</th></tr>");
        foreach (var c in m.PerClass)
            h.Append(CultureInfo.InvariantCulture, $"<tr><td>{E(c.Name)}</td><td>{c.TruePositives:N0}</td><td>{c.FalsePositives:N0}</td>" +
                $"<td>{c.FalseNegatives:N0}</td><td>{c.TrueNegatives:N0}</td></tr>");
        h.Append("</table>");
    }

    private static string Img(byte[] png, string alt, string caption) =>
        $"<figure><img alt=\"{E(alt)}\" src=\"data:image/png;base64,{Convert.ToBase64String(png)}\"><figcaption>{E(caption)}</figcaption></figure>";

    private static string E(string text) => WebUtility.HtmlEncode(text);

    private static string F(double? v, string none = "") => v is double d ? d.ToString("F4", CultureInfo.InvariantCulture) : none;

    private static string Safe(string name) => string.Concat(name.Select(c => char.IsLetterOrDigit(c) || c is '-' or '_' ? c : '_'));
}
