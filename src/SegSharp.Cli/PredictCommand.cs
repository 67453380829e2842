using System.CommandLine;
using SegSharp.Inference;
using SegSharp.Models;

namespace SegSharp.Cli;

/// <summary><c>segsharp predict</c>: index masks and colour overlays for a file or a folder.</summary>
public static class PredictCommand
{
    public static Command Build()
    {
        var command = new Command("predict", "Predict masks for an image or a folder: masks/NAME.png (class indices, class-colour palette) and overlays/NAME.png.");
        var checkpoint = new Option<string>("--checkpoint") { Description = "A .ckpt file.", Required = true };
        var input = new Option<string>("--input", "-i") { Description = "An image file or a folder of images.", Required = true };
        var output = new Option<string>("--output", "-o") { Description = "Output folder.", Required = true };
        var tile = new Option<int?>("--tile") { Description = "Sliding-window tile size in pixels (default: the checkpoint's evaluation.tile_size; 0 = whole image)." };
        var overlap = new Option<double?>("--overlap") { Description = "Tile overlap as a fraction of the tile (default 0.25)." };
        var tta = new Option<bool>("--tta") { Description = "Average over horizontal and vertical flips." };
        var precision = new Option<string?>("--precision") { Description = "auto (bfloat16 where the CPU has bfloat16 instructions), float32 or bfloat16 (default: the checkpoint's evaluation.precision)." };
        precision.AcceptOnlyFromAmong(ComputePrecision.Inference);
        foreach (var option in new Option[] { checkpoint, input, output, tile, overlap, tta, precision }) command.Options.Add(option);
        command.SetAction(parse => CommandLine.Guard(() =>
        {
            using var trained = TrainedModel.Load(parse.GetValue(checkpoint)!);
            var settings = trained.Config.Evaluation;
            int tileSize = parse.GetValue(tile) ?? settings.TileSize;
            double tileOverlap = parse.GetValue(overlap) ?? settings.TileOverlap;
            if (tileSize < 0 || tileOverlap is < 0 or >= 1)
                throw new SegSharpException($"--tile {tileSize} / --overlap {tileOverlap}: the tile must be >= 0 and the overlap in [0, 1).");
            trained.Model.ComputeType = ComputePrecision.Of(parse.GetValue(precision) ?? settings.Precision);
            var files = FolderPredictor.Inputs(parse.GetValue(input)!);
            var predictor = new FolderPredictor(trained, tileSize, tileOverlap, parse.GetValue(tta) || settings.FlipTta);
            string folder = Path.GetFullPath(parse.GetValue(output)!);
            int written = 0, skipped = 0;
            Terminal.Run($"predicting {files.Count} image(s)", files.Count, progress =>
            {
                foreach (var result in predictor.Run(files, folder))
                {
                    if (result.Error is null) written++;
                    else
                    {
                        skipped++;
                        Console.Error.WriteLine($"skipped: {result.Error}");
                    }
                    progress.Report(written + skipped);
                }
            });
            Console.WriteLine($"predict: {written} written, {skipped} skipped -> {folder}");
            return skipped == 0 ? 0 : 1;
        }));
        return command;
    }
}
