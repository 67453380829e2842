namespace SegSharp.Data;

/// <summary>
/// Images and masks in two folders, paired by file stem (<c>image/7.png</c> with <c>label/7.png</c>, any of the
/// supported extensions on either side). Files are read on demand, so memory does not grow with the dataset.
/// </summary>
public sealed class FolderDataset : ISegmentationDataset
{
    private readonly List<(string Stem, string Image, string Mask)> _pairs;
    private readonly LabelSchema _schema;
    private readonly MultiLabelMasks? _labels;

    // Pairs whose files were checked whole once; later epochs skip the check (the loader decodes every pair each epoch).
    private readonly System.Collections.Concurrent.ConcurrentDictionary<int, bool> _verified = new();

    public FolderDataset(DatasetDescription description)
    {
        Description = description;
        _schema = new LabelSchema(description);
        if (description.Task == SegmentationTask.Multilabel) _labels = new MultiLabelMasks(description);
        var listing = DatasetListing.Scan(description);
        if (listing.Pairs.Count == 0) throw new SegSharpException(NoPairs(description));
        _pairs = listing.Pairs.ToList();
        Unpaired = listing.ImagesWithoutMask.Concat(listing.MasksWithoutImage).ToList();
    }

    /// <summary>What training (and data check) say of a description that pairs no files.</summary>
    public static string NoPairs(DatasetDescription description) =>
        $"Dataset '{description.SourcePath}': no image/mask pairs found in '{description.ImagesDirectory}' and '{description.PairedMasksDirectory}'. " +
        "Check root, images and masks.";

    /// <summary>Images without a mask and masks without an image: not part of the dataset (data check lists them as errors).</summary>
    public IReadOnlyList<string> Unpaired { get; }

    public DatasetDescription Description { get; }

    public int Count => _pairs.Count;

    public string NameOf(int index) => _pairs[index].Stem;

    public string ImagePath(int index) => _pairs[index].Image;

    public string MaskPath(int index) => _pairs[index].Mask;

    /// <summary>Decodes a pair; the first load of each pair also checks both files are whole (truncated copies decode as zeros).</summary>
    public Sample Load(int index)
    {
        var (stem, imagePath, maskPath) = _pairs[index];
        bool verify = !_verified.ContainsKey(index);
        var (pixels, height, width) = ImageFiles.ReadImage(imagePath, Description.Channels, verify, Description.MaxImagePixels);
        var (mask, maskHeight, maskWidth) = _labels is not null ? _labels.Read(stem, maskPath, verify) : ReadClasses(maskPath, verify);
        _verified.TryAdd(index, true);
        if (maskHeight != height || maskWidth != width)
            throw new SegSharpException($"Mask '{maskPath}' is {maskWidth}x{maskHeight} but its image is {width}x{height}. Masks must match their image's " +
                $"size.");
        return new Sample(stem, pixels, mask, Description.Channels, height, width, Description.IgnoreIndex);
    }

    private (int[] Classes, int Height, int Width) ReadClasses(string maskPath, bool verify)
    {
        var (raw, height, width) = ImageFiles.ReadMaskValues(maskPath, Description.MaskEncoding == MaskEncoding.Rgb,
            Description.MaskEncoding == MaskEncoding.Palette, verify, Description.MaxImagePixels);
        return (_schema.Map(raw, maskPath), height, width);
    }
}
