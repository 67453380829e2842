namespace SegSharp.Data;

/// <summary>An indexable set of image/mask pairs. <see cref="Load"/> must be safe to call from several threads.</summary>
public interface ISegmentationDataset
{
    DatasetDescription Description { get; }

    int Count { get; }

    /// <summary>A stable name of sample <paramref name="index"/> (the file stem), for reports and errors.</summary>
    string NameOf(int index);

    /// <summary>Decodes sample <paramref name="index"/>: image in [0, 1], mask as class indices.</summary>
    Sample Load(int index);
}
