using System.CommandLine;
using System.Globalization;
using SegSharp.Workflows;

namespace SegSharp.Cli;

/// <summary><c>segsharp quantize</c>: an exported ONNX model as static INT8 (QDQ), calibrated and gated on a dataset.</summary>
public static class QuantizeCommand
{
    public static Command Build()
    {
        var command = new Command("quantize",
            "Write an INT8 copy of an exported ONNX model (QDQ: int8 per-channel weights, uint8 activations calibrated by ONNX Runtime on training " +
            "images; stem, head and final resize stay float). The float and INT8 models are evaluated on the validation split, and the INT8 file is " +
            "written only if mIoU drops by at most --max-drop points.");
        var model = new Option<string>("--model", "-m") { Description = "A float .onnx from 'segsharp export --format onnx'.", Required = true };
        var calibration = new Option<string>("--calibration") { Description = "Dataset YAML with the model's classes: its training images calibrate, " +
            "its validation split gates.", Required = true };
        var images = new Option<int>("--images")
        {
            Description = $"Calibration images (default {QuantizationWorkflow.DefaultImages}), spread over the training split.",
            DefaultValueFactory = _ => QuantizationWorkflow.DefaultImages,
        };
        var output = new Option<string>("--output", "-o") { Description = "The INT8 model to write, such as model.int8.onnx.", Required = true };
        var maxDrop = new Option<double>("--max-drop")
        {
            Description = $"Most mIoU points (hundredths) the INT8 model may lose (default {QuantizationWorkflow.DefaultMaxDrop}); beyond it nothing is " +
                "written and the exit code is 2.",
            DefaultValueFactory = _ => QuantizationWorkflow.DefaultMaxDrop,
        };
        var threads = new Option<int>("--threads") { Description = "ONNX Runtime threads (default 0: one per core)." };
        var overwrite = new Option<bool>("--overwrite") { Description = "Replace the output file if it exists." };
        foreach (var option in new Option[] { model, calibration, images, output, maxDrop, threads, overwrite }) command.Options.Add(option);
        command.SetAction(parse => CommandLine.Guard(() =>
        {
            int count = parse.GetValue(images);
            QuantizationReport? report = null;
            Terminal.Run("calibrating", count, progress => report = QuantizationWorkflow.Run(parse.GetValue(model)!, parse.GetValue(calibration)!,
                parse.GetValue(output)!, count, parse.GetValue(maxDrop), parse.GetValue(threads), parse.GetValue(overwrite), progress));
            Console.WriteLine($"quantize: {report!.Summary}");
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"quantize: {report.QuantizedConvolutions} convolutions in INT8, " +
                $"{report.FloatConvolutions} float, calibrated on {report.CalibrationImages} images -> {report.Output}"));
            return 0;
        }));
        return command;
    }
}
