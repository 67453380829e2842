using YamlDotNet.RepresentationModel;

namespace SegSharp.Configuration;

/// <summary>
/// Recipes that inherit: a config file may name another with <c>base: ../camvid-deeplab.yaml</c> (relative to itself) and
/// state only what it changes. The rules, as MMSegmentation's <c>_base_</c>: mappings merge key by key, depth first; a
/// scalar or a list in the derived file replaces the base's whole value (so a study that changes one loss term restates
/// <c>loss.terms</c>); a base may itself have a base; a cycle is refused. Paths in a base file (<c>data.dataset</c>,
/// <c>model.init_weights</c>, <c>model.encoder_weights</c>) stay relative to the file that wrote them. Every leaf
/// remembers the file it came from, for <c>segsharp config show</c>.
/// </summary>
internal static class RecipeInheritance
{
    public const string Key = "base";

    private static readonly string[][] PathKeys = { new[] { "data", "dataset" }, new[] { "model", "init_weights" }, new[] { "model", "encoder_weights" } };

    /// <param name="path">The config file.</param>
    /// <param name="read">Reads a file's text (with the caller's error for an unreadable file).</param>
    /// <returns>The merged tree (no <c>base</c> key left) and, for every leaf path, the file that set it.</returns>
    public static (YamlMappingNode Tree, Dictionary<string, string> Origins) Load(string path, Func<string, string> read) =>
        Load(Path.GetFullPath(path), new List<string>(), read);

    /// <summary>Every leaf of a tree as its config path (<c>loss.terms[0].name</c>), as ConfigDifference flattens them.</summary>
    public static IEnumerable<string> Leaves(YamlNode node, string prefix) =>
        YamlDocument.Walk(node, prefix).Where(entry => !YamlDocument.IsSectionList(entry.Node)).Select(entry => entry.Path);

    private static (YamlMappingNode, Dictionary<string, string>) Load(string path, List<string> chain, Func<string, string> read)
    {
        if (chain.Contains(path))
            throw new ConfigException($"Config '{chain[0]}': base makes a cycle ({string.Join(" -> ", chain.Append(path).Select(Path.GetFileName))}); " +
                "remove one of those base: lines.");
        chain.Add(path);
        string folder = Path.GetDirectoryName(path)!;
        var tree = YamlDocument.ParseMapping(read(path), path, "train:") ?? new YamlMappingNode();
        KeepPathsRelativeTo(tree, folder);
        var baseKey = tree.Children.Keys.FirstOrDefault(k => Name(k) == Key);
        if (baseKey is null) return (tree, Leaves(tree, "").ToDictionary(leaf => leaf, _ => path, StringComparer.Ordinal));
        if (tree.Children[baseKey] is not YamlScalarNode { Value: { Length: > 0 } relative })
            throw new ConfigException($"{path}: base must be the path of another config YAML, relative to this file (e.g. 'base: ../camvid-deeplab.yaml').");
        string basePath = Path.GetFullPath(Path.Combine(folder, relative));
        if (!File.Exists(basePath))
            throw new ConfigException($"{path}: base '{relative}' does not exist ({basePath}); name a config YAML relative to this file.");
        tree.Children.Remove(baseKey);
        var (merged, origins) = Load(basePath, chain, read);
        Merge(merged, tree, "", origins, path);
        return (merged, origins);
    }

    /// <summary>Writes <paramref name="derived"/> over <paramref name="target"/>: mappings key by key, anything else whole.</summary>
    private static void Merge(YamlMappingNode target, YamlMappingNode derived, string prefix, Dictionary<string, string> origins, string file)
    {
        foreach (var (key, value) in derived.Children)
        {
            string path = prefix.Length == 0 ? Name(key) : $"{prefix}.{Name(key)}";
            var existing = target.Children.Keys.FirstOrDefault(k => Name(k) == Name(key));
            if (value is YamlMappingNode map && existing is not null && target.Children[existing] is YamlMappingNode into)
            {
                Merge(into, map, path, origins, file);
                continue;
            }
            if (existing is not null) target.Children.Remove(existing);
            target.Children.Add(key, value);
            foreach (var stale in origins.Keys.Where(k => k == path || k.StartsWith(path + ".", StringComparison.Ordinal) ||
                         k.StartsWith(path + "[", StringComparison.Ordinal)).ToList())
                origins.Remove(stale);
            foreach (var leaf in Leaves(value, path)) origins[leaf] = file;
        }
    }

    /// <summary>A relative path in a file means relative to that file, wherever the tree is merged: made absolute here.</summary>
    private static void KeepPathsRelativeTo(YamlMappingNode tree, string folder)
    {
        foreach (var keys in PathKeys)
        {
            var section = tree.Children.FirstOrDefault(kv => Name(kv.Key) == keys[0]).Value as YamlMappingNode;
            var entry = section?.Children.FirstOrDefault(kv => Name(kv.Key) == keys[1]);
            if (entry?.Value is not YamlScalarNode { Value: { Length: > 0 } value } scalar) continue;
            if (value.StartsWith("builtin:", StringComparison.Ordinal) || value == ModelConfig.PretrainedWeights || Path.IsPathRooted(value)) continue;
            scalar.Value = Path.GetFullPath(Path.Combine(folder, value));
        }
    }

    private static string Name(YamlNode key) => ((YamlScalarNode)key).Value ?? "";
}
