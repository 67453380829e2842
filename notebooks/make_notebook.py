#!/usr/bin/env python3
"""Writes notebooks/experiments.ipynb (or the path given) from the cells below, stored without outputs. Run after editing a cell;
a test checks the committed notebook is what this writes."""
import json, pathlib, sys

MD, CODE = "markdown", "code"
cells = [
(MD, """# SegSharp experiments

Train three short configs on the built-in shapes dataset — cross-entropy alone against cross-entropy + Dice, and the
Dice recipe with an FPN decoder on a ResNet-18 encoder — compare their curves and metrics, look at overlays and the worst images, read a run folder's `metrics.jsonl`, and predict with
a checkpoint. About a minute on 2 cores.

Run it with Jupyter (`JUPYTER_PATH=notebooks jupyter notebook`, kernel **.NET (C#) - SegSharp**) or VS Code's Polyglot
Notebooks, after `dotnet tool restore` and a build (`./segsharp info` builds). It loads SegSharp from the build output,
not from NuGet: the build folder holds the native bridge patched for Debian 12 / Ubuntu 22.04 (docs/native-runtime.md)."""),
(CODE, """#pragma warning disable CS1701 // the kernel's own reference to an older Microsoft.AspNetCore.Html.Abstractions
#r "../src/SegSharp.Cli/bin/Release/net10.0/SegSharp.dll"
#r "../src/SegSharp.Cli/bin/Release/net10.0/ScottPlot.dll"
#r "../src/SegSharp.Cli/bin/Release/net10.0/SixLabors.ImageSharp.dll"

using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using SegSharp.Configuration;
using SegSharp.Data;
using SegSharp.Training;
using SegSharp.Workflows;
using Microsoft.DotNet.Interactive.Formatting;

SegSharp.Runtime.TorchRuntime.EnsureLoaded();
string root = Path.Combine(Path.GetTempPath(), $"segsharp-notebook-{Environment.ProcessId}");
Directory.CreateDirectory(root);

// Small helpers to show pictures and tables inline.
void ShowPng(byte[] png, int width = 480) =>
    display(HTML($"<img width='{width}' src='data:image/png;base64,{Convert.ToBase64String(png)}'/>"));
void ShowTable(IEnumerable<string> header, IEnumerable<IEnumerable<object>> rows) =>
    display(HTML("<table><tr>" + string.Concat(header.Select(h => $"<th>{h}</th>")) + "</tr>" +
        string.Concat(rows.Select(r => "<tr>" + string.Concat(r.Select(c => $"<td>{c}</td>")) + "</tr>")) + "</table>"));
// A training hook that prints one line per epoch (hooks observe a run; the trainer decides).
sealed class EpochLines : ITrainingHook
{
    public void EpochCompleted(ITrainingView run, EpochOutcome epoch) =>
        Console.WriteLine($"  epoch {epoch.Record.Epoch}: loss {epoch.Record.TrainLoss:F3}, val mIoU {epoch.Record.MeanIoU:F3}");
    public void Message(string text) => Console.WriteLine(text);
}
Console.WriteLine($"libtorch {SegSharp.Runtime.TorchRuntime.LibTorchVersion}; runs go to {root}");"""),
(MD, """## Three configs

The embedded default recipe (U-Net on the built-in shapes), shortened, once with cross-entropy alone and once with
cross-entropy + Dice. Everything else — seed, data order, augmentation — is the same, so the loss is the only difference.
The third run keeps the Dice recipe and swaps the model: `model.name: fpn` on `model.encoder: resnet18` (any decoder
takes any encoder; here from scratch, `encoder_weights` would start it from ImageNet weights)."""),
(CODE, """#pragma warning disable CS1701
var common = new[] { "train.epochs=6", "train.iters_per_epoch=8", "train.seed=7", "data.workers=1" };
var recipes = new Dictionary<string, string[]>
{
    ["cross-entropy"] = new[] { "loss.terms[1].weight=0" },
    ["cross-entropy + Dice"] = Array.Empty<string>(),
    ["FPN on ResNet-18, CE + Dice"] = new[] { "model.name=fpn", "model.encoder=resnet18" },
};
var outcomes = new Dictionary<string, TrainAndEvaluateResult>();
foreach (var (name, extra) in recipes)
{
    Console.WriteLine(name);
    string dir = Path.Combine(root, name.Replace(" + ", "-plus-").Replace(" ", "-"));
    var config = SegSharpConfig.Load(null, common.Concat(extra).Append($"output.dir={dir}").ToList());
    outcomes[name] = TrainingWorkflow.Run(config, new[] { new EpochLines() });
}"""),
(MD, """## Curves"""),
(CODE, """var plot = new ScottPlot.Plot();
plot.Title("Validation mIoU and training loss per epoch");
plot.XLabel("epoch");
plot.YLabel("value");
var colors = new[] { ScottPlot.Colors.SteelBlue, ScottPlot.Colors.OrangeRed, ScottPlot.Colors.SeaGreen };
int i = 0;
foreach (var (name, outcome) in outcomes)
{
    var history = outcome.Training.State.History;
    double[] epochs = history.Select(h => (double)h.Epoch).ToArray();
    var miou = plot.Add.Scatter(epochs, history.Select(h => h.MeanIoU ?? double.NaN).ToArray(), colors[i]);
    miou.LegendText = $"{name}: val mIoU";
    var loss = plot.Add.Scatter(epochs, history.Select(h => h.TrainLoss).ToArray(), colors[i]);
    loss.LegendText = $"{name}: train loss";
    loss.LinePattern = ScottPlot.LinePattern.Dashed;
    i++;
}
plot.ShowLegend(ScottPlot.Edge.Right);
ShowPng(plot.GetImageBytes(900, 420, ScottPlot.ImageFormat.Png), 900);
plot.Dispose();"""),
(MD, """## Metrics of the best checkpoints (validation split)"""),
(CODE, """var classNames = outcomes.First().Value.Evaluation!.Outcome.Result.Metrics.PerClass.Select(c => c.Name).ToList();
ShowTable(new[] { "run", "mIoU", "mDice", "pixel accuracy" }.Concat(classNames.Select(c => $"IoU {c}")),
    outcomes.Select(o =>
    {
        var m = o.Value.Evaluation!.Outcome.Result.Metrics;
        return new object[] { o.Key, m.MeanIoU.ToString("F3"), m.MeanDice.ToString("F3"), m.PixelAccuracy.ToString("F3") }
            .Concat(m.PerClass.Select(c => (object)(c.IoU is double iou ? iou.ToString("F3") : "-")));
    }));"""),
(MD, """## Overlays: a sample and the worst images of the Dice run"""),
(CODE, """string report = outcomes["cross-entropy + Dice"].Training.Run.ReportDirectory;
var overlays = Directory.GetFiles(Path.Combine(report, "overlays"), "*.png").Order().ToList();
foreach (var file in overlays.Where(f => Path.GetFileName(f).StartsWith("sample")).Take(1)
             .Concat(overlays.Where(f => Path.GetFileName(f).StartsWith("worst")).Take(2)))
{
    Console.WriteLine(Path.GetFileName(file));
    ShowPng(File.ReadAllBytes(file), 720);
}"""),
(MD, """## A run folder's `metrics.jsonl`, read directly"""),
(CODE, """string runDir = outcomes["cross-entropy"].Training.Run.Path;
var lines = File.ReadAllLines(Path.Combine(runDir, "metrics.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToList();
ShowTable(new[] { "epoch", "step", "train_loss", "lr", "val_loss", "mean_iou" },
    lines.Select(l => new object[]
    {
        l.GetProperty("epoch").GetInt32(), l.GetProperty("step").GetInt64(), l.GetProperty("train_loss").GetDouble().ToString("F4"),
        l.GetProperty("lr").GetDouble().ToString("G3"), l.GetProperty("validation_loss").GetDouble().ToString("F4"),
        l.GetProperty("mean_iou").GetDouble().ToString("F4"),
    }));"""),
(MD, """## Predict with a checkpoint

`best.ckpt` is a self-contained model file: write two new shapes images to a folder and predict them, as
`segsharp predict --checkpoint best.ckpt --input images --output predictions` does."""),
(CODE, """using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
string images = Path.Combine(root, "new-images");
Directory.CreateDirectory(images);
var shapes = new ShapesDataset(count: 2, size: 96, seed: 123);
for (int n = 0; n < shapes.Count; n++)
{
    var s = shapes.Load(n);
    using var picture = new Image<Rgb24>(s.Width, s.Height);
    for (int y = 0; y < s.Height; y++)
        for (int x = 0; x < s.Width; x++)
        {
            byte C(int c) => (byte)Math.Clamp(s.Image[(c * s.Height + y) * s.Width + x] * 255f, 0, 255);
            picture[x, y] = new Rgb24(C(0), C(1), C(2));
        }
    picture.SaveAsPng(Path.Combine(images, $"new{n}.png"));
}
string best = outcomes["cross-entropy + Dice"].Training.Run.Checkpoints.BestPath;
using (var prediction = PredictionWorkflow.Open(best, images, Path.Combine(root, "predictions")))
    foreach (var result in prediction.Run())
    {
        Console.WriteLine($"{Path.GetFileName(result.Input)}: pixels per class {string.Join(", ", result.ClassPixels)}");
        ShowPng(File.ReadAllBytes(result.OverlayPath!), 480);
    }"""),
]

notebook = {
    "cells": [
        {"cell_type": t, "id": f"cell-{n}", "metadata": {}, "source": s.splitlines(keepends=True)}
        | ({"execution_count": None, "outputs": [], "metadata": {"dotnet_interactive": {"language": "csharp"}}} if t == CODE else {})
        for n, (t, s) in enumerate(cells)
    ],
    "metadata": {
        "kernelspec": {"display_name": ".NET (C#) - SegSharp", "language": "C#", "name": ".net-csharp"},
        "language_info": {"name": "csharp", "file_extension": ".cs", "mimetype": "text/x-csharp", "pygments_lexer": "csharp"},
        "polyglot_notebook": {"kernelInfo": {"defaultKernelName": "csharp", "items": [{"name": "csharp", "aliases": []}]}},
    },
    "nbformat": 4,
    "nbformat_minor": 5,
}
path = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else pathlib.Path(__file__).with_name("experiments.ipynb")
path.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n")
print(f"wrote {path}")
