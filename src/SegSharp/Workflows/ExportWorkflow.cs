using System.Text.Json;
using SegSharp.Foundation;
using SegSharp.Inference;
using SegSharp.Models;

namespace SegSharp.Workflows;

/// <summary>
/// "Export a model": a checkpoint as an ONNX model for ONNX Runtime (self-describing: classes, colours and
/// normalisation in its metadata), or its weights as a safetensors or PyTorch state dict for other frameworks.
/// </summary>
public static class ExportWorkflow
{
    /// <param name="overwrite">Replace <paramref name="output"/> if it exists; never when it is the checkpoint itself.</param>
    /// <returns>The absolute path written and the number of weight tensors in it.</returns>
    public static (string Path, int Tensors) Run(string checkpoint, ExportFormat format, string output, bool overwrite = false)
    {
        string path = Path.GetFullPath(output);
        if (SameFile(path, Path.GetFullPath(checkpoint)))
            throw new SegSharpException($"--output '{output}' is the checkpoint being exported; writing it would destroy the model. Choose another file " +
                "(e.g. model.onnx).");
        if (File.Exists(path) && !overwrite)
            throw new SegSharpException($"Output '{path}' exists; pass --overwrite to replace it, or choose another --output.");
        using var trained = TrainedModel.Load(checkpoint);
        // Export always writes float32 weights, whatever precision the model was trained or evaluated in.
        trained.Model.ComputeType = null;
        Action write = format switch
        {
            ExportFormat.Onnx => () =>
                OnnxExport.Write(trained.Model, trained.Card, JsonSerializer.Serialize(trained.Config.Evaluation, JsonFormats.Compact), path),
            ExportFormat.Safetensors => () => WeightFiles.Write(trained.Model, path, WeightFileFormat.Safetensors),
            ExportFormat.PyTorch => () => WeightFiles.Write(trained.Model, path, WeightFileFormat.PyTorch),
        };
        write();
        return (path, trained.Model.state_dict().Count);
    }

    /// <summary>The same file by path or through a symbolic link.</summary>
    private static bool SameFile(string a, string b)
    {
        static string Resolve(string path) => File.Exists(path) && new FileInfo(path).ResolveLinkTarget(returnFinalTarget: true) is { } target
            ? target.FullName : path;
        return string.Equals(Resolve(a), Resolve(b), StringComparison.Ordinal);
    }
}
