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

    /// <summary>Pixels of every mask read, ignored ones included.</summary>
    public long MaskPixels { get; init; }

    /// <summary>Pixels that count: one class each (multiclass), or the pixels not ignored (multilabel, where classes overlap).</summary>
    public long LabelledPixels => Description.Task == SegmentationTask.Multilabel ? MaskPixels - IgnoredPixels : ClassPixels.Sum();

    /// <summary>A class's share of the labelled pixels (for multilabel, of the pixels it could be present in; shares may add up past 1).</summary>
    public double Share(int classIndex) => LabelledPixels == 0 ? 0 : (double)ClassPixels[classIndex] / LabelledPixels;

    public bool Ok => Errors.Count == 0;
}
