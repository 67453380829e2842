namespace SegSharp.Data;

/// <summary>
/// Maps raw mask values (gray level, palette index or packed 0xRRGGBB) to class indices, sending ignore values
/// to the ignore index. An unknown value is an error naming the file, the value and the fix.
/// </summary>
public sealed class LabelSchema
{
    private readonly Dictionary<int, int> _map = new();

    public LabelSchema(DatasetDescription description)
    {
        Description = description;
        foreach (var c in description.Classes) _map[c.Value] = c.Index;
        foreach (int v in description.IgnoreValues) _map[v] = description.IgnoreIndex;
    }

    public DatasetDescription Description { get; }

    public IEnumerable<int> KnownValues => _map.Keys.Order();

    public bool TryMap(int raw, out int index) => _map.TryGetValue(raw, out index);

    /// <summary>Class indices for the raw values of the mask at <paramref name="path"/>.</summary>
    public int[] Map(int[] raw, string path)
    {
        var result = new int[raw.Length];
        int lastRaw = int.MinValue, lastIndex = 0;
        for (int i = 0; i < raw.Length; i++)
        {
            int v = raw[i];
            if (v != lastRaw)
            {
                if (!_map.TryGetValue(v, out lastIndex)) throw Unknown(path, v);
                lastRaw = v;
            }
            result[i] = lastIndex;
        }
        return result;
    }

    public SegSharpException Unknown(string path, int value)
    {
        string known = string.Join(", ", KnownValues.Select(Format));
        return new SegSharpException($"Mask '{path}' holds value {Format(value)}, which the class map does not name (known: {known}). Add it to classes or " +
            $"set ignore_values.");
    }

    public string Format(int value) => Description.MaskEncoding == MaskEncoding.Rgb ? $"#{value:X6}" : value.ToString();
}
