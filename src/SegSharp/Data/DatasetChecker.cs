namespace SegSharp.Data;

/// <summary>
/// Reads every pair of a folder dataset once, the way training will, and reports what would break or mislead
/// it: unreadable files, unpaired files, image/mask size mismatches and mask values the class map does not name.
/// Run it before training (nnU-Net's integrity check); `segsharp data check` prints its report.
/// </summary>
public static class DatasetChecker
{
    public static DatasetReport Check(DatasetDescription description, IProgress<int>? progress = null)
    {
        var listing = DatasetListing.Scan(description);
        var schema = new LabelSchema(description);
        var labels = description.Task == SegmentationTask.Multilabel ? new MultiLabelMasks(description) : null;
        var errors = new List<string>();
        var warnings = new List<string>();
        if (listing.Pairs.Count == 0) errors.Add(FolderDataset.NoPairs(description));    // what training would refuse
        foreach (var image in listing.ImagesWithoutMask)
            errors.Add($"Image '{image}' has no mask with the same stem in '{description.PairedMasksDirectory}'. Add the mask or remove the image.");
        foreach (var mask in listing.MasksWithoutImage) errors.Add($"Mask '{mask}' has no image with the same stem in '{description.ImagesDirectory}'. Add " +
            $"the image or remove the mask.");
        var sizes = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var classPixels = new long[description.ClassCount];
        long ignored = 0, maskPixels = 0;
        var results = new (string? Error, string? Size, long[]? Counts, long Ignored, long Pixels)[listing.Pairs.Count];
        int done = 0;
        Parallel.For(0, listing.Pairs.Count, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, Environment.ProcessorCount) }, i =>
        {
            results[i] = labels is null ? CheckPair(listing.Pairs[i], description, schema) : CheckLabels(listing.Pairs[i], description, labels);
            progress?.Report(Interlocked.Increment(ref done));
        });
        foreach (var r in results)
        {
            if (r.Error is not null) { errors.Add(r.Error); continue; }
            sizes[r.Size!] = sizes.GetValueOrDefault(r.Size!) + 1;
            for (int c = 0; c < classPixels.Length; c++) classPixels[c] += r.Counts![c];
            ignored += r.Ignored;
            maskPixels += r.Pixels;
        }
        if (sizes.Count > 1) warnings.Add($"Images come in {sizes.Count} sizes; training batches need a random_crop or resize transform.");
        for (int c = 0; c < classPixels.Length; c++)
            if (classPixels[c] == 0 && listing.Pairs.Count > 0) warnings.Add($"Class '{description.Classes[c].Name}' (value " +
                $"{schema.Format(description.Classes[c].Value)}) never occurs in any mask.");
        return new DatasetReport
        {
            Description = description, Pairs = listing.Pairs.Count, Sizes = sizes, ClassPixels = classPixels,
            IgnoredPixels = ignored, MaskPixels = maskPixels, Errors = errors, Warnings = warnings,
        };
    }

    /// <summary>A multilabel pair: every class's mask readable, of the image's size; counts are each class's present pixels.</summary>
    private static (string?, string?, long[]?, long, long) CheckLabels((string Stem, string Image, string Mask) pair, DatasetDescription description,
        MultiLabelMasks labels)
    {
        try
        {
            var (height, width) = ImageFiles.ReadSize(pair.Image, description.MaxImagePixels);
            ImageFiles.ReadImage(pair.Image, description.Channels, maxPixels: description.MaxImagePixels);
            var (bits, maskHeight, maskWidth) = labels.Read(pair.Stem, pair.Mask);
            if (maskHeight != height || maskWidth != width)
                return ($"Mask '{pair.Mask}' is {maskWidth}x{maskHeight} but its image is {width}x{height}. Masks must match their image's size.", null,
                    null, 0, 0);
            var counts = new long[description.ClassCount];
            long ignored = 0;
            foreach (int pixel in bits)
            {
                if (pixel == LabelBits.Ignore) { ignored++; continue; }
                for (int c = 0; c < counts.Length; c++) counts[c] += pixel >> c & 1;
            }
            return (null, $"{width}x{height}", counts, ignored, (long)width * height);
        }
        catch (SegSharpException e)
        {
            return (e.Message, null, null, 0, 0);
        }
    }

    private static (string?, string?, long[]?, long, long) CheckPair((string Stem, string Image, string Mask) pair, DatasetDescription description,
        LabelSchema schema)
    {
        try
        {
            long limit = description.MaxImagePixels;
            var (height, width) = ImageFiles.ReadSize(pair.Image, limit);
            ImageFiles.ReadImage(pair.Image, description.Channels, maxPixels: limit);
            var (raw, maskHeight, maskWidth) = ImageFiles.ReadMaskValues(pair.Mask, description.MaskEncoding == MaskEncoding.Rgb,
                description.MaskEncoding == MaskEncoding.Palette, maxPixels: limit);
            if (maskHeight != height || maskWidth != width)
                return ($"Mask '{pair.Mask}' is {maskWidth}x{maskHeight} but its image is {width}x{height}. Masks must match their image's size.", null,
                    null, 0, 0);
            var counts = new long[description.ClassCount];
            long ignoredPixels = 0;
            var unknown = new SortedDictionary<int, long>();
            foreach (int v in raw)
            {
                if (!schema.TryMap(v, out int index)) unknown[v] = unknown.GetValueOrDefault(v) + 1;
                else if (index == description.IgnoreIndex) ignoredPixels++;
                else counts[index]++;
            }
            if (unknown.Count > 0)
            {
                var first = unknown.First();
                string more = unknown.Count > 1
                    ? $" and {unknown.Count - 1} other unknown value(s): {string.Join(", ", unknown.Keys.Skip(1).Take(5).Select(schema.Format))}"
                    : "";
                return ($"Mask '{pair.Mask}' holds value {schema.Format(first.Key)} ({first.Value} px){more}, which the class map does not name (known: " +
                    $"{string.Join(", ", schema.KnownValues.Select(schema.Format))}). Add it to classes or set ignore_values.", null, null, 0, 0);
            }
            return (null, $"{width}x{height}", counts, ignoredPixels, (long)width * height);
        }
        catch (SegSharpException e)
        {
            return (e.Message, null, null, 0, 0);
        }
    }
}
