using SegSharp.Inference;
using SegSharp.Models;

namespace SegSharp.Workflows;

/// <summary>"Export a model": a checkpoint's weights as a safetensors or PyTorch state dict, for other frameworks.</summary>
public static class ExportWorkflow
{
    /// <returns>The absolute path written and the number of tensors in it.</returns>
    public static (string Path, int Tensors) Run(string checkpoint, WeightFileFormat format, string output)
    {
        using var trained = TrainedModel.Load(checkpoint);
        string path = Path.GetFullPath(output);
        WeightFiles.Write(trained.Model, path, format);
        return (path, trained.Model.state_dict().Count);
    }
}
