using System.CommandLine;
using SegSharp.Configuration;
using SegSharp.Data;
using SegSharp.Foundation;
using SegSharp.Workflows;

namespace SegSharp.Cli;

/// <summary><c>segsharp predict</c>: index masks and colour overlays for a file or a folder.</summary>
public static class PredictCommand
{
    public static Command Build()
    {
        var command = new Command("predict",
            "Predict masks for an image or a folder: masks/NAME.png (class indices, class-colour palette) and overlays/NAME.png. " +
            "The model is a checkpoint or an exported ONNX file.");
        var checkpoint = new Option<string?>("--checkpoint") { Description = "A .ckpt file (run by libtorch)." };
        var model = new Option<string?>("--model", "-m") { Description = "A .ckpt, or a .onnx from 'segsharp export --format onnx' (run by ONNX Runtime, " +
            "no libtorch)." };
        var input = new Option<string>("--input", "-i") { Description = "An image file or a folder of images.", Required = true };
        var output = new Option<string>("--output", "-o") { Description = "Output folder.", Required = true };
        var tile = new Option<int?>("--tile") { Description = "Sliding-window tile size in pixels (default: the checkpoint's evaluation.tile_size; 0 = whole " +
            "image)." };
        var overlap = new Option<double?>("--overlap") { Description = $"Tile overlap as a fraction of the tile, {Tiling.MinOverlap} to {Tiling.MaxOverlap} " +
            $"(default: the checkpoint's evaluation.tile_overlap)." };
        var tta = new Option<bool>("--tta") { Description = "Average over horizontal and vertical flips (3x the work)." };
        var scales = new Option<string?>("--scales") { Description = "Multi-scale test-time augmentation: average over these image scales, such as " +
            "0.75,1,1.25 (with --tta, flips at each scale; default: the model's evaluation.tta_scales)." };
        var overwrite = new Option<bool>("--overwrite") { Description = "Replace masks and overlays already in the output folder." };
        var precision = new Option<string?>("--precision") { Description = $"{OptionNames<InferencePrecision>.Choices} (default: the checkpoint's " +
            $"evaluation.precision; auto = bfloat16 where the CPU has bfloat16 instructions)." };
        precision.AcceptOnlyFromAmong(OptionNames<InferencePrecision>.All.ToArray());
        var memoryFormat = new Option<string?>("--memory-format") { Description = $"Checkpoints: {OptionNames<MemoryFormat>.Choices} (default: the " +
            "checkpoint's evaluation.memory_format; auto = channels_last where this CPU's kernels pass SegSharp's check, faster)." };
        memoryFormat.AcceptOnlyFromAmong(OptionNames<MemoryFormat>.All.ToArray());
        var optimization = new Option<string?>("--graph-optimization")
        {
            Description = $"ONNX models: {OptionNames<GraphOptimization>.Choices} (default all: ONNX Runtime's layouts for this CPU, kept next to the " +
                "model for next time).",
        };
        optimization.AcceptOnlyFromAmong(OptionNames<GraphOptimization>.All.ToArray());
        var threads = new Option<int>("--threads") { Description = "Threads for libtorch or ONNX Runtime (default 0: one per core)." };
        var resume = new Option<bool>("--resume") { Description = "Keep the masks and overlays already in the output folder and predict the rest " +
            "(after Ctrl-C or a failure)." };
        var maxPixels = new Option<long>("--max-pixels")
        {
            Description = $"Skip images whose header declares more pixels (default {ImageFiles.DefaultMaxPixels:N0}; about 40 bytes of memory each).",
            DefaultValueFactory = _ => ImageFiles.DefaultMaxPixels,
        };
        foreach (var option in new Option[]
            { checkpoint, model, input, output, tile, overlap, tta, scales, overwrite, resume, maxPixels, precision, memoryFormat, optimization, threads })
            command.Options.Add(option);
        command.SetAction(parse => CommandLine.Guard(() => Run(parse), again: "run the same command with --resume"));
        return command;

        int Run(ParseResult parse)
        {
            string? precisionName = parse.GetValue(precision);
            string? checkpointPath = parse.GetValue(checkpoint), modelPath = parse.GetValue(model);
            if ((checkpointPath is null) == (modelPath is null))
                throw new SegSharpException("predict needs exactly one of --checkpoint FILE.ckpt or --model FILE (.ckpt or .onnx).");
            string? scaleList = parse.GetValue(scales);
            var options = new PredictionOptions
            {
                TileSize = parse.GetValue(tile), Overlap = parse.GetValue(overlap), FlipTta = parse.GetValue(tta),
                Scales = scaleList is null ? null : TestTimeAugmentation.Parse(scaleList, "--scales"),
                Precision = precisionName is null ? null : OptionNames<InferencePrecision>.Parse(precisionName, "--precision"),
                MemoryFormat = parse.GetValue(memoryFormat) is { } format ? OptionNames<MemoryFormat>.Parse(format, "--memory-format") : null,
                Threads = parse.GetValue(threads),
                GraphOptimization = parse.GetValue(optimization) is { } level ? OptionNames<GraphOptimization>.Parse(level, "--graph-optimization")
                    : GraphOptimization.All,
            };
            using var job = PredictionWorkflow.Open((checkpointPath ?? modelPath)!, parse.GetValue(input)!, parse.GetValue(output)!, options,
                parse.GetValue(overwrite), parse.GetValue(resume), parse.GetValue(maxPixels));
            int written = 0, skipped = 0;
            using var stop = Interruption.Catch("stopping after this image...");
            Terminal.Run($"predicting {job.Files.Count} image(s)", job.Files.Count, progress =>
            {
                foreach (var result in job.Run(stop.Token))
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
            string done = job.Done > 0 ? $", {job.Done} done before" : "";
            if (stop.IsCancellationRequested)
            {
                Console.WriteLine($"predict: interrupted: {written} written, {skipped} skipped{done} -> {job.Output}; " +
                    $"{job.Files.Count - written - skipped} left: run the same command with --resume to predict them.");
                return CommandLine.Interrupted;
            }
            Console.WriteLine($"predict: {written} written, {skipped} skipped{done} -> {job.Output}");
            return skipped == 0 ? 0 : 1;
        }
    }
}
