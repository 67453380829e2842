using System.CommandLine;
using SegSharp.Foundation;
using SegSharp.Workflows;

namespace SegSharp.Cli;

/// <summary><c>segsharp export</c>: a checkpoint as an ONNX model, or its weights as a safetensors or PyTorch state dict.</summary>
public static class ExportCommand
{
    public static Command Build()
    {
        var command = new Command("export",
            "Write a checkpoint as an ONNX model (for ONNX Runtime; classes and normalisation in its metadata), or its weights as a state dict: " +
            "safetensors, or PyTorch's format (torch.load(..., weights_only=True)).");
        var checkpoint = new Option<string>("--checkpoint") { Description = "A .ckpt file.", Required = true };
        var format = new Option<string>("--format") { Description = $"{OptionNames<ExportFormat>.Choices}.", Required = true };
        format.AcceptOnlyFromAmong(OptionNames<ExportFormat>.All.ToArray());
        var output = new Option<string>("--output", "-o")
        {
            Description = "The file to write (e.g. model.onnx, model.safetensors or model.pt).", Required = true,
        };
        var overwrite = new Option<bool>("--overwrite") { Description = "Replace the output file if it exists (never the checkpoint itself)." };
        foreach (var option in new Option[] { checkpoint, format, output, overwrite }) command.Options.Add(option);
        command.SetAction(parse => CommandLine.Guard(() =>
        {
            var (path, tensors) = ExportWorkflow.Run(parse.GetValue(checkpoint)!, OptionNames<ExportFormat>.Parse(parse.GetValue(format)!, "--format"),
                parse.GetValue(output)!, parse.GetValue(overwrite));
            Console.WriteLine($"export: {tensors} tensors -> {path}");
            return 0;
        }));
        return command;
    }
}
