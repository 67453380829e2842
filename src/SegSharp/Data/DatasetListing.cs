namespace SegSharp.Data;

/// <summary>The files of a folder dataset: pairs by stem, and what could not be paired.</summary>
public sealed record DatasetListing(
    IReadOnlyList<(string Stem, string Image, string Mask)> Pairs,
    IReadOnlyList<string> ImagesWithoutMask,
    IReadOnlyList<string> MasksWithoutImage)
{
    public static DatasetListing Scan(DatasetDescription description)
    {
        if (!Directory.Exists(description.ImagesDirectory))
            throw new SegSharpException($"Dataset '{description.SourcePath}': images folder '{description.ImagesDirectory}' does not exist. Fix root or " +
                $"images.");
        string maskFolder = description.PairedMasksDirectory;
        if (!Directory.Exists(maskFolder))
            throw new SegSharpException($"Dataset '{description.SourcePath}': masks folder '{maskFolder}' does not exist. Fix root or masks" +
                (maskFolder == description.MasksDirectory ? "." : $" (with mask_layout: folders each class has its folder under masks, named as the class)."));
        var images = ByStem(description.ImagesDirectory, "images");
        var masks = ByStem(maskFolder, "masks");
        var pairs = images.Keys.Where(masks.ContainsKey).OrderBy(NaturalKey, StringComparer.Ordinal)
            .Select(stem => (stem, images[stem], masks[stem])).ToList();
        return new DatasetListing(pairs,
            images.Keys.Where(s => !masks.ContainsKey(s)).Order(StringComparer.Ordinal).Select(s => images[s]).ToList(),
            masks.Keys.Where(s => !images.ContainsKey(s)).Order(StringComparer.Ordinal).Select(s => masks[s]).ToList());
    }

    /// <summary>Sorts "2" before "10" so file order matches what a person expects.</summary>
    public static string NaturalKey(string stem) =>
        System.Text.RegularExpressions.Regex.Replace(stem, @"\d+", m => m.Value.PadLeft(12, '0'));

    /// <summary>The image files of a folder by stem; two files of one stem are an error.</summary>
    internal static Dictionary<string, string> ByStem(string folder, string what)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(folder).Where(ImageFiles.IsImage))
        {
            string stem = Path.GetFileNameWithoutExtension(file);
            if (result.TryGetValue(stem, out string? other))
                throw new SegSharpException($"Dataset {what} folder holds both '{Path.GetFileName(other)}' and '{Path.GetFileName(file)}' for stem '{stem}'. " +
                    $"Keep one.");
            result[stem] = file;
        }
        return result;
    }
}
