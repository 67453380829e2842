// Over 250 lines: one typed getter per value kind (scalars, lists, enums, paths, sections), each wording its own range error;
// they share the key-tracking and error wording, and split apart they would repeat both.
using System.Globalization;
using SegSharp.Foundation;
using YamlDotNet.RepresentationModel;

namespace SegSharp.Configuration;

/// <summary>
/// Reads one YAML mapping with its key path, recording each value it hands out (given or default) into an
/// "effective" mapping, so the config that actually ran can be printed and saved. <see cref="Finish"/> fails on
/// any key nobody asked for, which is how typos are caught at load instead of silently ignored.
/// </summary>
internal sealed class ConfigSection
{
    private readonly YamlMappingNode _node;
    private readonly HashSet<string> _used = new(StringComparer.Ordinal);
    private readonly List<ConfigSection> _children = new();

    public ConfigSection(YamlMappingNode? node, string path, string source)
    {
        _node = node ?? new YamlMappingNode();
        Path = path;
        Source = source;
        Effective = new YamlMappingNode();
    }

    /// <summary>Dotted key path of this section, empty at the root.</summary>
    public string Path { get; }

    /// <summary>The file the values came from, for messages.</summary>
    public string Source { get; }

    /// <summary>What was read, defaults included, in reading order.</summary>
    public YamlMappingNode Effective { get; }

    /// <summary>The root section of a YAML document (see <see cref="YamlDocument.ParseMapping"/> for the errors).</summary>
    public static ConfigSection FromYaml(string text, string source, string example = "train:") =>
        new(YamlDocument.ParseMapping(text, source, example), "", source);

    public bool Has(string key) => _node.Children.ContainsKey(new YamlScalarNode(key));

    /// <summary>Free text (a name, a path). A choice among names is an enum: use <see cref="GetEnum{T}(string, T)"/>.</summary>
    public string GetString(string key, string defaultValue)
    {
        string value = Scalar(key) ?? defaultValue;
        Record(key, new YamlScalarNode(value));
        return value;
    }

    public string? GetOptionalString(string key)
    {
        string? value = Scalar(key);
        if (value is null or "~" or "null") { _used.Add(key); return null; }
        Record(key, new YamlScalarNode(value));
        return value;
    }

    public int GetInt(string key, int defaultValue, int min = int.MinValue, int max = int.MaxValue)
    {
        string? text = Scalar(key);
        int value = defaultValue;
        if (text is not null && !int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out value))
            throw Error(key, text, RangeText("a whole number", min, max));
        if (value < min || value > max) throw Error(key, value.ToString(CultureInfo.InvariantCulture), RangeText("a whole number", min, max));
        Record(key, new YamlScalarNode(value.ToString(CultureInfo.InvariantCulture)));
        return value;
    }

    public long GetLong(string key, long defaultValue, long min = long.MinValue)
    {
        string? text = Scalar(key);
        long value = defaultValue;
        if (text is not null && !long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out value))
            throw Error(key, text, "a whole number");
        if (value < min) throw Error(key, value.ToString(CultureInfo.InvariantCulture), $"a whole number >= {min}");
        Record(key, new YamlScalarNode(value.ToString(CultureInfo.InvariantCulture)));
        return value;
    }

    public double GetDouble(string key, double defaultValue, double min = double.NegativeInfinity, double max = double.PositiveInfinity)
    {
        string? text = Scalar(key);
        double value = defaultValue;
        if (text is not null && !TryParseDouble(text, out value))
            throw Error(key, text, RangeText("a number", min, max));
        if (!(value >= min && value <= max)) throw Error(key, Format(value), RangeText("a number", min, max));
        Record(key, new YamlScalarNode(Format(value)));
        return value;
    }

    /// <summary>An option named by its enum's <see cref="Foundation.OptionNameAttribute"/>; an unknown name lists the choices.</summary>
    public T GetEnum<T>(string key, T defaultValue) where T : struct, Enum =>
        Named<T>(key, Scalar(key) ?? OptionNames<T>.Name(defaultValue));

    /// <summary>A required option with no default: a missing key fails like an unknown name.</summary>
    public T GetEnum<T>(string key) where T : struct, Enum =>
        Named<T>(key, Scalar(key) ?? throw Error(key, "(missing)", $"one of {OptionNames<T>.Choices}"));

    private T Named<T>(string key, string text) where T : struct, Enum
    {
        if (!OptionNames<T>.TryParse(text, out T value)) throw Error(key, text, $"one of {OptionNames<T>.Choices}");
        Record(key, new YamlScalarNode(text));
        return value;
    }

    public bool GetBool(string key, bool defaultValue)
    {
        string? text = Scalar(key);
        bool value = defaultValue;
        if (text is not null)
        {
            value = text.ToLowerInvariant() switch
            {
                "true" or "yes" or "on" => true,
                "false" or "no" or "off" => false,
                _ => throw Error(key, text, "true or false"),
            };
        }
        Record(key, new YamlScalarNode(value ? "true" : "false"));
        return value;
    }

    public double[] GetDoubles(string key, double[] defaultValue, int? length = null)
    {
        var values = ReadList(key, defaultValue.Select(Format).ToArray(), "a list of numbers", length)
            .Select(t => TryParseDouble(t, out double d) ? d : throw Error(key, t, "a list of numbers")).ToArray();
        Record(key, Flow(values.Select(Format)));
        return values;
    }

    public int[] GetInts(string key, int[] defaultValue, int? length = null, int min = int.MinValue)
    {
        var values = ReadList(key, defaultValue.Select(v => v.ToString(CultureInfo.InvariantCulture)).ToArray(), "a list of whole numbers", length)
            .Select(t => int.TryParse(t, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) && v >= min
                ? v : throw Error(key, t, min > int.MinValue ? $"whole numbers >= {min}" : "a list of whole numbers")).ToArray();
        Record(key, Flow(values.Select(v => v.ToString(CultureInfo.InvariantCulture))));
        return values;
    }

    /// <summary>Replaces the recorded effective value of <paramref name="key"/>, e.g. a path made absolute.</summary>
    public void RecordEffective(string key, string value) => Record(key, new YamlScalarNode(value));

    /// <summary>A nested mapping (empty when absent).</summary>
    public ConfigSection Section(string key)
    {
        _used.Add(key);
        YamlMappingNode? map = null;
        if (_node.Children.TryGetValue(new YamlScalarNode(key), out var node))
        {
            map = node switch
            {
                YamlMappingNode m => m,
                YamlScalarNode { Value: null or "" or "~" } => null,
                _ => throw Error(key, Describe(node), "a mapping of keys"),
            };
        }
        var child = new ConfigSection(map, Join(key), Source);
        _children.Add(child);
        Effective.Children[new YamlScalarNode(key)] = child.Effective;
        return child;
    }

    /// <summary>A list of mappings, e.g. transforms; <paramref name="defaultItems"/> (YAML text) when absent.</summary>
    /// <param name="example">One item as the user would write it, for the error when an item is not a mapping.</param>
    /// <param name="scalarKey">If set, a single value item <c>x</c> is read as <c>{ scalarKey: x }</c> (e.g. a class given by name).</param>
    public IReadOnlyList<ConfigSection> Sections(string key, string example, string? defaultItems = null, string? scalarKey = null)
    {
        _used.Add(key);
        YamlSequenceNode? sequence = null;
        if (_node.Children.TryGetValue(new YamlScalarNode(key), out var node))
        {
            sequence = node switch
            {
                YamlSequenceNode s => s,
                YamlScalarNode { Value: null or "" or "~" } => new YamlSequenceNode(),
                _ => throw Error(key, Describe(node), "a list of mappings (lines starting with '- ')"),
            };
        }
        else if (defaultItems is not null)
        {
            sequence = (YamlSequenceNode)YamlDocument.ParseValue(defaultItems, "built-in default");
        }
        sequence ??= new YamlSequenceNode();
        var result = new List<ConfigSection>();
        var effective = new YamlSequenceNode();
        for (int i = 0; i < sequence.Children.Count; i++)
        {
            var entry = sequence.Children[i];
            if (scalarKey is not null && entry is YamlScalarNode { Value: { Length: > 0 } } scalar)
                entry = new YamlMappingNode(new YamlScalarNode(scalarKey), new YamlScalarNode(scalar.Value));
            if (entry is not YamlMappingNode item)
                throw Error($"{key}[{i}]", Describe(entry), $"a mapping such as '{example}'");
            var child = new ConfigSection(item, Join($"{key}[{i}]"), Source);
            _children.Add(child);
            result.Add(child);
            effective.Add(child.Effective);
        }
        Effective.Children[new YamlScalarNode(key)] = effective;
        return result;
    }

    /// <summary>The keys present in this mapping, for maps keyed by data (e.g. class values).</summary>
    public IReadOnlyList<string> Keys() =>
        _node.Children.Keys.OfType<YamlScalarNode>().Select(k => k.Value ?? "").ToList();

    /// <summary>Throws on the first key that no reader asked for, in this section and every child.</summary>
    public void Finish()
    {
        foreach (var entry in _node.Children)
        {
            string key = (entry.Key as YamlScalarNode)?.Value ?? entry.Key.ToString();
            if (!_used.Contains(key))
            {
                string known = string.Join(", ", _used.OrderBy(k => k, StringComparer.Ordinal));
                throw new ConfigException($"{Source}: unknown key '{Join(key)}'" +
                    (known.Length > 0 ? $"; known keys here: {known}." : "."));
            }
        }
        foreach (var child in _children) child.Finish();
    }

    public ConfigException Error(string key, string value, string allowed) =>
        new($"{Source}: {Join(key)} = '{value}' is not valid; expected {allowed}.");

    public static bool TryParseDouble(string text, out double value) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value)
        && !double.IsNaN(value);

    public static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    private string? Scalar(string key)
    {
        _used.Add(key);
        if (!_node.Children.TryGetValue(new YamlScalarNode(key), out var node)) return null;
        if (node is YamlScalarNode scalar) return scalar.Value is null or "" or "~" ? null : scalar.Value;
        throw Error(key, Describe(node), "a single value");
    }

    private string[] ReadList(string key, string[] defaultValue, string what, int? length)
    {
        _used.Add(key);
        string[] items = defaultValue;
        if (_node.Children.TryGetValue(new YamlScalarNode(key), out var node))
        {
            items = node switch
            {
                YamlSequenceNode s => s.Children.Select(c => c is YamlScalarNode v ? v.Value ?? "" : throw Error(key, Describe(node), what)).ToArray(),
                YamlScalarNode v when v.Value is not null and not "" => new[] { v.Value },
                _ => throw Error(key, Describe(node), what),
            };
        }
        if (length is int n && items.Length != n)
        {
            if (items.Length == 1) items = Enumerable.Repeat(items[0], n).ToArray();
            else throw Error(key, $"[{string.Join(", ", items)}]", $"{what} of length {n}");
        }
        return items;
    }

    private void Record(string key, YamlNode value) => Effective.Children[new YamlScalarNode(key)] = value;

    private static YamlSequenceNode Flow(IEnumerable<string> items)
    {
        var node = new YamlSequenceNode(items.Select(i => new YamlScalarNode(i)))
        {
            Style = YamlDotNet.Core.Events.SequenceStyle.Flow,
        };
        return node;
    }

    private string Join(string key) => Path.Length == 0 ? key : $"{Path}.{key}";

    private static string RangeText(string what, double min, double max) =>
        (double.IsNegativeInfinity(min) || min == int.MinValue || min == long.MinValue, double.IsPositiveInfinity(max) || max == int.MaxValue) switch
        {
            (true, true) => what,
            (false, true) => $"{what} >= {Format(min)}",
            (true, false) => $"{what} <= {Format(max)}",
            _ => $"{what} from {Format(min)} to {Format(max)}",
        };

    private static string Describe(YamlNode node) => node switch
    {
        YamlScalarNode s => s.Value ?? "",
        YamlSequenceNode => "a list",
        YamlMappingNode => "a mapping",
        _ => node.ToString(),
    };

}
