using System.CommandLine;
using SegSharp.Configuration;
using SegSharp.Data;
using Spectre.Console;

namespace SegSharp.Cli;

/// <summary><c>segsharp data check &lt;dataset.yaml&gt;</c>: the dataset integrity report.</summary>
public static class DataCommands
{
    public static Command Build()
    {
        var data = new Command("data", "Inspect datasets.");
        var check = new Command("check", "Check a dataset: counts, sizes, class pixel shares, and every problem, one line each.");
        var dataset = new Argument<string>("dataset") { Description = "Dataset description YAML (e.g. configs/isbi2012-membrane.dataset.yaml) or " +
            $"{DataConfig.BuiltinShapes}." };
        check.Arguments.Add(dataset);
        check.SetAction(parse => CommandLine.Guard(() => Check(parse.GetValue(dataset)!)));
        data.Subcommands.Add(check);
        return data;
    }

    private static int Check(string spec)
    {
        if (spec == ShapesDataset.Spec)
        {
            var shapes = new ShapesDataset();
            Console.WriteLine($"dataset: {spec} (generated: {shapes.Count} pairs, {shapes.Size}x{shapes.Size}, {shapes.Description.ClassCount} classes)");
            return 0;
        }
        var description = DatasetDescription.Load(spec);
        DatasetReport report = null!;
        Terminal.Run("checking pairs", DatasetListing.Scan(description).Pairs.Count,
            progress => report = DatasetChecker.Check(description, progress));
        Console.WriteLine($"dataset: {description.Name} ({description.SourcePath})");
        Console.WriteLine($"pairs: {report.Pairs}");
        Console.WriteLine($"sizes: {string.Join(", ", report.Sizes.Select(kv => $"{kv.Key} x{kv.Value}"))}");
        var table = new Table().AddColumns("class", "index", "mask value", "pixels", "share");
        foreach (var c in description.Classes)
            table.AddRow(c.Name, c.Index.ToString(), new LabelSchema(description).Format(c.Value), report.ClassPixels[c.Index].ToString("N0"),
                $"{report.Share(c.Index):P2}");
        Terminal.Write(table, string.Join('\n',
            description.Classes.Select(c => $"class {c.Name}: {report.ClassPixels[c.Index]} px ({report.Share(c.Index):P2})")));
        if (report.IgnoredPixels > 0) Console.WriteLine($"ignored pixels: {report.IgnoredPixels:N0}");
        foreach (var w in report.Warnings) Console.WriteLine($"warning: {w}");
        foreach (var e in report.Errors) Console.Error.WriteLine($"error: {e}");
        Console.WriteLine(report.Ok ? "ok: no problems found" : $"{report.Errors.Count} problem(s) found");
        return report.Ok ? 0 : 1;
    }
}
