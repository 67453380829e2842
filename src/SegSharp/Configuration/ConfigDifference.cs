using YamlDotNet.RepresentationModel;

namespace SegSharp.Configuration;

/// <summary>
/// What changed between two effective configs, key by key (<c>optimizer.lr: 0.003 → 0.01</c>), leaving out the
/// keys that cannot change the trained weights, so a resume is refused only for a change that matters and the
/// refusal names it.
/// </summary>
public static class ConfigDifference
{
    /// <summary>
    /// Keys (and key prefixes) whose values never reach the weights: where files go, how many loader threads
    /// prepare the same batches, how often a checkpoint is written, and everything evaluation does afterwards.
    /// </summary>
    public static readonly IReadOnlyList<string> WeightNeutralKeys =
        new[] { "output", "data.workers", "data.prefetch", "train.checkpoint_every", "evaluation", "tracking" };

    /// <returns>(key, old value, new value) for each differing key, values null where absent, in key order.</returns>
    public static IReadOnlyList<(string Key, string? Old, string? New)> WeightRelevant(string oldYaml, string newYaml)
    {
        var before = Flatten(oldYaml, "the stored config");
        var after = Flatten(newYaml, "the new config");
        return before.Keys.Union(after.Keys).Where(k => !IsWeightNeutral(k)).Order(StringComparer.Ordinal)
            .Select(k => (k, before.GetValueOrDefault(k), after.GetValueOrDefault(k)))
            .Where(d => d.Item2 != d.Item3).ToList();
    }

    /// <summary>
    /// A config stored by an earlier SegSharp (in a checkpoint) with every key this version added filled in with its
    /// default, which is the earlier behaviour: a run started before <c>train.sync_batch_norm</c> existed resumes as if it
    /// had said <c>false</c>. Returns the text unchanged when it no longer reads (e.g. its dataset moved).
    /// </summary>
    /// <param name="format1">Stored before configs named their format (<see cref="SegSharpConfig.ParseStored"/>).</param>
    public static string WithCurrentDefaults(string storedYaml, bool format1 = false)
    {
        try
        {
            return SegSharpConfig.ParseStored(storedYaml, "the stored config", Directory.GetCurrentDirectory(), format1).EffectiveYaml;
        }
        catch (SegSharpException)
        {
            return storedYaml;
        }
    }

    /// <summary>"optimizer.lr 0.003 → 0.01, train.epochs 12 → 20".</summary>
    public static string Describe(IReadOnlyList<(string Key, string? Old, string? New)> differences) =>
        string.Join(", ", differences.Select(d => $"{d.Key} {d.Old ?? "(unset)"} → {d.New ?? "(unset)"}"));

    private static bool IsWeightNeutral(string key) =>
        WeightNeutralKeys.Any(n => key == n || key.StartsWith(n + ".", StringComparison.Ordinal));

    /// <summary>Every leaf of a config as "section.key" → value (lists of scalars as "[a, b]", lists of mappings by index).</summary>
    public static Dictionary<string, string> Flatten(string yaml, string source)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        var root = YamlDocument.ParseMapping(yaml, source, "train:");
        if (root is null) return result;
        foreach (var (path, node) in YamlDocument.Walk(root))
        {
            if (node is YamlSequenceNode sequence && YamlDocument.IsSectionList(sequence))
                result[path + ".count"] = sequence.Children.Count.ToString(System.Globalization.CultureInfo.InvariantCulture);
            else if (node is YamlSequenceNode scalars)
                result[path] = "[" + string.Join(", ", scalars.Children.Select(c => ((YamlScalarNode)c).Value)) + "]";
            else if (node is YamlScalarNode scalar)
                result[path] = scalar.Value ?? "";
        }
        return result;
    }
}
