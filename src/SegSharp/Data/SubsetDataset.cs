namespace SegSharp.Data;

/// <summary>A view of some samples of another dataset, e.g. the training split.</summary>
public sealed class SubsetDataset : ISegmentationDataset
{
    private readonly ISegmentationDataset _source;

    public SubsetDataset(ISegmentationDataset source, IReadOnlyList<int> indices)
    {
        _source = source;
        Indices = indices;
    }

    public IReadOnlyList<int> Indices { get; }

    public DatasetDescription Description => _source.Description;

    public int Count => Indices.Count;

    public string NameOf(int index) => _source.NameOf(Indices[index]);

    public Sample Load(int index) => _source.Load(Indices[index]);
}
