namespace SegSharp.Data;

/// <summary>What <see cref="DatasetChecker"/> found: counts, sizes, class pixel shares and one line per problem.</summary>
public sealed record DatasetReport
{
    public required DatasetDescription Description { get; init; }
    public required int Pairs { get; init; }

    /// <summary>"WxH" → number of images of that size.</summary>
    public required IReadOnlyDictionary<string, int> Sizes { get; init; }

    /// <summary>Pixels per class, in class order.</summary>
    public required IReadOnlyList<long> ClassPixels { get; init; }
    public required long IgnoredPixels { get; init; }

    /// <summary>One line each: unreadable files, unknown mask values, size mismatches, unpaired files.</summary>
    public required IReadOnlyList<string> Errors { get; init; }
    public required IReadOnlyList<string> Warnings { get; init; }

    public long LabelledPixels => ClassPixels.Sum();

    public double Share(int classIndex) => LabelledPixels == 0 ? 0 : (double)ClassPixels[classIndex] / LabelledPixels;

    public bool Ok => Errors.Count == 0;
}
