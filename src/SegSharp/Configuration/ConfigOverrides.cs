using YamlDotNet.RepresentationModel;

namespace SegSharp.Configuration;

/// <summary>
/// Applies command-line overrides such as <c>optimizer.lr=0.01</c> or <c>transforms.train[0].p=0.3</c> to a YAML
/// tree before it is read, so overridden values go through exactly the same validation as file values.
/// Values are parsed as YAML, so lists (<c>[256, 256]</c>) work too.
/// </summary>
internal static class ConfigOverrides
{
    public static void Apply(YamlMappingNode root, IEnumerable<string> assignments)
    {
        foreach (string assignment in assignments)
        {
            int eq = assignment.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
                throw new ConfigException($"--set '{assignment}' is not of the form key.path=value (e.g. optimizer.lr=0.01).");
            string path = assignment[..eq].Trim();
            YamlNode value = YamlDocument.ParseValue(assignment[(eq + 1)..].Trim(), $"--set '{assignment}'");
            Set(root, path, value, assignment);
        }
    }

    private static void Set(YamlMappingNode root, string path, YamlNode value, string assignment)
    {
        var parts = Tokenize(path, assignment);
        YamlNode current = root;
        for (int i = 0; i < parts.Count; i++)
        {
            bool last = i == parts.Count - 1;
            var (key, index) = parts[i];
            if (key is not null)
            {
                if (current is not YamlMappingNode map)
                    throw new ConfigException($"--set '{assignment}': '{key}' is inside a value that is not a mapping.");
                var scalarKey = new YamlScalarNode(key);
                if (last) { map.Children[scalarKey] = value; return; }
                if (!map.Children.TryGetValue(scalarKey, out var next) || next is YamlScalarNode)
                {
                    next = parts[i + 1].Index is not null ? new YamlSequenceNode() : new YamlMappingNode();
                    map.Children[scalarKey] = next;
                }
                current = next;
            }
            else
            {
                if (current is not YamlSequenceNode seq || index!.Value >= seq.Children.Count)
                    throw new ConfigException($"--set '{assignment}': index [{index}] is past the end of the list; lists can only be changed in place.");
                if (last) { seq.Children[index.Value] = value; return; }
                current = seq.Children[index.Value];
            }
        }
    }

    private static List<(string? Key, int? Index)> Tokenize(string path, string assignment)
    {
        var parts = new List<(string?, int?)>();
        foreach (string segment in path.Split('.'))
        {
            string rest = segment;
            int bracket = rest.IndexOf('[', StringComparison.Ordinal);
            string name = bracket < 0 ? rest : rest[..bracket];
            if (name.Length == 0 && bracket != 0)
                throw new ConfigException($"--set '{assignment}': empty key in '{path}'.");
            if (name.Length > 0) parts.Add((name, null));
            while (bracket >= 0)
            {
                int close = rest.IndexOf(']', bracket);
                if (close < 0 || !int.TryParse(rest[(bracket + 1)..close], out int index) || index < 0)
                    throw new ConfigException($"--set '{assignment}': bad list index in '{segment}'; write e.g. transforms.train[0].p=0.5.");
                parts.Add((null, index));
                rest = rest[(close + 1)..];
                bracket = rest.IndexOf('[', StringComparison.Ordinal);
            }
        }
        return parts;
    }
}
