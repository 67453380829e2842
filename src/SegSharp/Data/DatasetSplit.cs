using SegSharp.Runtime;

namespace SegSharp.Data;

/// <summary>Train and validation views of one dataset, from a seeded ratio or from list files of stems.</summary>
public sealed record DatasetSplit(ISegmentationDataset Train, ISegmentationDataset Validation)
{
    public static DatasetSplit Create(ISegmentationDataset dataset)
    {
        var spec = dataset.Description.Split;
        if (spec.Method == SplitMethod.Lists) return FromLists(dataset, spec);
        int count = dataset.Count;
        int validation = (int)Math.Round(count * spec.ValidationFraction);
        if (spec.ValidationFraction > 0) validation = Math.Clamp(validation, 1, count - 1);
        // Shuffle stems, not positions, so adding files does not reshuffle the whole split.
        var order = Enumerable.Range(0, count).OrderBy(i => dataset.NameOf(i), StringComparer.Ordinal).ToArray();
        var permutation = SeededRandom.For(spec.Seed, 0x5B117).Permutation(count);
        var shuffled = permutation.Select(p => order[p]).ToArray();
        var val = shuffled.Take(validation).Order().ToArray();
        var train = shuffled.Skip(validation).Order().ToArray();
        return new DatasetSplit(new SubsetDataset(dataset, train), new SubsetDataset(dataset, val));
    }

    private static DatasetSplit FromLists(ISegmentationDataset dataset, SplitSpec spec)
    {
        var byStem = Enumerable.Range(0, dataset.Count).ToDictionary(dataset.NameOf, i => i, StringComparer.Ordinal);
        int[] Read(string path)
        {
            if (!File.Exists(path)) throw new SegSharpException($"Split list '{path}' does not exist. Create it with one file stem per line, or use " +
                $"split.method: ratio.");
            var stems = File.ReadAllLines(path).Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#'));
            return stems.Select(s => byStem.TryGetValue(Path.GetFileNameWithoutExtension(s), out int i)
                ? i : throw new SegSharpException($"Split list '{path}' names '{s}', which has no image/mask pair. Remove the line or add the " +
                    $"files.")).ToArray();
        }
        var train = Read(spec.TrainList!);
        var val = Read(spec.ValidationList!);
        var both = train.Intersect(val).ToList();
        if (both.Count > 0)
            throw new SegSharpException($"Split lists '{spec.TrainList}' and '{spec.ValidationList}' both name '{dataset.NameOf(both[0])}'. A sample belongs " +
                $"to one split.");
        return new DatasetSplit(new SubsetDataset(dataset, train), new SubsetDataset(dataset, val));
    }
}
