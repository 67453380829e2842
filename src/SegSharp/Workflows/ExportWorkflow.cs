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
    /// <returns>The absolute path written and the number of weight tensors in it.</returns>
    public static (string Path, int Tensors) Run(string checkpoint, ExportFormat format, string output)
    {
        using var trained = TrainedModel.Load(checkpoint);
        string path = Path.GetFullPath(output);
        // Export always writes float32 weights, whatever precision the model was trained or evaluated in.
        trained.Model.ComputeType = null;
        switch (format)
        {
            case ExportFormat.Onnx:
                OnnxExport.Write(trained.Model, trained.Card, JsonSerializer.Serialize(trained.Config.Evaluation, JsonFormats.Compact), path);
                break;
            case ExportFormat.Safetensors:
                WeightFiles.Write(trained.Model, path, WeightFileFormat.Safetensors);
                break;
            case ExportFormat.PyTorch:
                WeightFiles.Write(trained.Model, path, WeightFileFormat.PyTorch);
                break;
        }
        return (path, trained.Model.state_dict().Count);
    }
}
