namespace SegSharp.Data;

/// <summary>Opens the dataset a config names: a description YAML path or <c>builtin:shapes</c>.</summary>
public static class DatasetFactory
{
    /// <summary>Whether the dataset a spec names is still there (the built-in one always is).</summary>
    public static bool Exists(string spec) => spec == ShapesDataset.Spec || File.Exists(spec);

    public static ISegmentationDataset Open(string spec) =>
        spec == ShapesDataset.Spec ? new ShapesDataset() : new FolderDataset(DatasetDescription.Load(spec));
}
