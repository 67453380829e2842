using System.Text;
using YamlDotNet.RepresentationModel;

namespace SegSharp.Configuration;

/// <summary>Writes a YAML node tree as compact block YAML: mappings as blocks, lists of scalars inline.</summary>
internal static class YamlText
{
    public static string Write(YamlNode node)
    {
        var text = new StringBuilder();
        WriteNode(text, node, 0);
        return text.ToString();
    }

    private static void WriteNode(StringBuilder text, YamlNode node, int indent)
    {
        string pad = new(' ', indent);
        switch (node)
        {
            case YamlMappingNode map:
                foreach (var (key, value) in map.Children)
                {
                    string name = ((YamlScalarNode)key).Value ?? "";
                    if (value is YamlMappingNode child && child.Children.Count > 0)
                    {
                        text.Append(pad).Append(name).Append(":\n");
                        WriteNode(text, child, indent + 2);
                    }
                    else if (value is YamlSequenceNode seq && seq.Children.Any(c => c is YamlMappingNode))
                    {
                        text.Append(pad).Append(name).Append(":\n");
                        foreach (var item in seq.Children)
                        {
                            var lines = Write(item).TrimEnd('\n').Split('\n');
                            text.Append(pad).Append("  - ").Append(lines[0]).Append('\n');
                            foreach (var line in lines.Skip(1)) text.Append(pad).Append("    ").Append(line).Append('\n');
                        }
                    }
                    else
                    {
                        text.Append(pad).Append(name).Append(": ").Append(Inline(value)).Append('\n');
                    }
                }
                break;
            default:
                text.Append(pad).Append(Inline(node)).Append('\n');
                break;
        }
    }

    private static string Inline(YamlNode node) => node switch
    {
        YamlScalarNode s => Quote(s.Value ?? "null"),
        YamlSequenceNode seq => "[" + string.Join(", ", seq.Children.Select(Inline)) + "]",
        YamlMappingNode map when map.Children.Count == 0 => "{}",
        YamlMappingNode map => "{ " + string.Join(", ", map.Children.Select(kv => $"{Inline(kv.Key)}: {Inline(kv.Value)}")) + " }",
        _ => node.ToString(),
    };

    private static string Quote(string value)
    {
        bool plain = value.Length > 0 && value.All(c => char.IsLetterOrDigit(c) || c is '.' or '_' or '-' or '/' or '+' or ':')
                     && !value.StartsWith('-') || value.Length > 1 && value.StartsWith('-') && double.TryParse(value,
                         System.Globalization.CultureInfo.InvariantCulture, out _);
        if (plain && !value.Contains(": ", StringComparison.Ordinal)) return value;
        return "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";
    }
}
