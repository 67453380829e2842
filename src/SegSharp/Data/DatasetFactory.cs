namespace SegSharp.Data;

/// <summary>Opens the dataset a config names: a description YAML path or <c>builtin:shapes</c>.</summary>
public static class DatasetFactory
{
    public static ISegmentationDataset Open(string spec) =>
        spec == ShapesDataset.Spec ? new ShapesDataset() : new FolderDataset(DatasetDescription.Load(spec));
}
