using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace SegSharp.Configuration;

/// <summary>
/// The one way SegSharp reads YAML (configs, dataset descriptions, <c>--set</c> values, recipes). A syntax error,
/// a duplicate key or a top level that is not a mapping becomes one <see cref="ConfigException"/> line naming
/// the source, the line and the column, never a parser stack trace.
/// </summary>
internal static class YamlDocument
{
    /// <summary>
    /// Every entry of a config tree with its path (<c>model.name</c>, <c>loss.terms[0].weight</c>): scalars, lists of scalars
    /// (one entry each), and lists of sections, which are reported themselves (<see cref="IsSectionList"/>) before each
    /// item's entries. The one traversal behind config differences, MLflow params and recipe origins.
    /// </summary>
    public static IEnumerable<(string Path, YamlNode Node)> Walk(YamlNode node, string prefix = "")
    {
        switch (node)
        {
            case YamlMappingNode map:
                foreach (var (key, value) in map.Children)
                {
                    string name = ((YamlScalarNode)key).Value ?? "";
                    foreach (var entry in Walk(value, prefix.Length == 0 ? name : $"{prefix}.{name}")) yield return entry;
                }
                break;
            case YamlSequenceNode sequence when IsSectionList(sequence):
                yield return (prefix, sequence);
                for (int i = 0; i < sequence.Children.Count; i++)
                    foreach (var entry in Walk(sequence.Children[i], $"{prefix}[{i}]")) yield return entry;
                break;
            default:
                yield return (prefix, node);
                break;
        }
    }

    /// <summary>A list whose items are not all scalars (transforms, loss terms): walked item by item.</summary>
    public static bool IsSectionList(YamlNode node) => node is YamlSequenceNode sequence && sequence.Children.Any(c => c is not YamlScalarNode);

    /// <summary>The top-level mapping of <paramref name="text"/>; null for an empty document.</summary>
    /// <param name="example">A key the top level would hold, for the message when it is not a mapping.</param>
    public static YamlMappingNode? ParseMapping(string text, string source, string example)
    {
        if (text.Contains('\0', StringComparison.Ordinal))
            throw new ConfigException($"{source}: is not a YAML text file (it contains NUL bytes). Pass a YAML text file.");
        var root = Load(text, source);
        return root switch
        {
            null or YamlScalarNode { Value: null or "" or "~" } => null,
            YamlMappingNode map => map,
            _ => throw new ConfigException(
                $"{source}: line {root.Start.Line}, column {root.Start.Column}: the top level must be a mapping of keys (e.g. '{example}'), not " +
                    $"{Describe(root)}."),
        };
    }

    /// <summary>A single YAML value such as <c>[256, 256]</c> or <c>0.01</c>; an empty text is an empty scalar.</summary>
    public static YamlNode ParseValue(string text, string source) =>
        text.Length == 0 ? new YamlScalarNode("") : Load(text, source) ?? new YamlScalarNode("");

    private static YamlNode? Load(string text, string source)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException e)
        {
            string reason = (e.InnerException?.Message ?? e.Message).Split('\n')[0].TrimEnd('.');
            throw new ConfigException($"{source}: not valid YAML at line {e.Start.Line}, column {e.Start.Column}: {reason}. Fix the syntax there.");
        }
        catch (InvalidOperationException)
        {
            // YamlDotNet's scanner fails this way (without a position) on some unclosed '[' or '{' spanning lines;
            // the end of the last event it could read is where the text stops making sense.
            var mark = LastReadableMark(text);
            throw new ConfigException($"{source}: not valid YAML at line {mark.Line}, column {mark.Column}: the text stops parsing here (an unclosed '[' or " +
                $"'{{'?). Fix the syntax there.");
        }
        return stream.Documents.Count == 0 ? null : stream.Documents[0].RootNode;
    }

    private static Mark LastReadableMark(string text)
    {
        var parser = new Parser(new StringReader(text));
        var mark = Mark.Empty;
        try
        {
            while (parser.MoveNext()) mark = parser.Current!.End;
        }
        catch (Exception e) when (e is YamlException or InvalidOperationException)
        {
        }
        return mark;
    }

    private static string Describe(YamlNode node) => node switch
    {
        YamlSequenceNode => "a list",
        YamlScalarNode s => $"the single value '{Shorten(s.Value ?? "")}'",
        _ => "another kind of node",
    };

    private static string Shorten(string value) => value.Length <= 40 ? value : value[..40] + "...";
}
