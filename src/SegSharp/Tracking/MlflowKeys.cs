using System.Globalization;
using System.Text;

namespace SegSharp.Tracking;

/// <summary>
/// The rule that turns SegSharp's names into MLflow keys, and back. MLflow accepts keys of letters, digits, '_', '-',
/// '.', ' ', '/' (and ':' except on Windows servers), at most 250 characters, that do not change under path normalisation;
/// one key it refuses rejects a whole log-batch. So:
/// <list type="bullet">
/// <item>a config path's list index becomes a segment: <c>loss.terms[0].label_smoothing</c> → <c>loss.terms.0.label_smoothing</c>
/// (config keys never start with a digit, so a numeric segment reads back as an index);</item>
/// <item>in a free-text segment (a class name) letters, digits, '_' and ' ' stay; every other character becomes '-', its
/// Unicode code point in lower-case hex, '-': <c>Sign/Symbol</c> → <c>Sign-2f-Symbol</c>, <c>..</c> → <c>-2e--2e-</c>;</item>
/// <item>a key longer than 250 characters keeps its first 239 and ends <c>-x</c> and 8 hex digits of its SHA-256 (the one
/// case that does not read back).</item>
/// </list>
/// </summary>
public static class MlflowKeys
{
    /// <summary>MLflow's longest key.</summary>
    public const int MaxLength = 250;

    /// <summary>The param key of a flattened config path (<c>transforms.train[2].size</c> → <c>transforms.train.2.size</c>).</summary>
    public static string Param(string configPath)
    {
        var segments = new List<string>();
        foreach (var part in configPath.Split('.'))
        {
            int bracket = part.IndexOf('[', StringComparison.Ordinal);
            if (bracket < 0)
            {
                segments.Add(Segment(part));
                continue;
            }
            segments.Add(Segment(part[..bracket]));
            foreach (var index in part[(bracket + 1)..].TrimEnd(']').Split("]["))
                segments.Add(index);
        }
        return Bounded(string.Join('.', segments));
    }

    /// <summary>The config path a param key came from (the inverse of <see cref="Param"/>).</summary>
    public static string ConfigPath(string paramKey)
    {
        var path = new StringBuilder();
        foreach (var segment in paramKey.Split('.'))
        {
            if (segment.Length > 0 && segment.All(char.IsAsciiDigit)) path.Append('[').Append(segment).Append(']');
            else path.Append(path.Length == 0 ? "" : ".").Append(Unescape(segment));
        }
        return path.ToString();
    }

    /// <summary>A metric key under a prefix, for a free-text name: <c>Metric("val_iou", "Sign/Symbol")</c> → <c>val_iou/Sign-2f-Symbol</c>.</summary>
    public static string Metric(string prefix, string name) => Bounded($"{prefix}/{Segment(name)}");

    /// <summary>Free text as one key segment that every MLflow server accepts.</summary>
    public static string Segment(string text)
    {
        var result = new StringBuilder(text.Length);
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (char.IsAsciiLetterOrDigit(c) || c is '_' or ' ')
            {
                result.Append(c);
                continue;
            }
            int codePoint = char.IsSurrogatePair(text, i) ? char.ConvertToUtf32(text[i], text[++i]) : c;
            result.Append('-').Append(codePoint.ToString("x", CultureInfo.InvariantCulture)).Append('-');
        }
        return result.ToString();
    }

    /// <summary>The text a segment was made from (the inverse of <see cref="Segment"/>).</summary>
    public static string Unescape(string segment)
    {
        var result = new StringBuilder(segment.Length);
        for (int i = 0; i < segment.Length; i++)
        {
            int end = segment[i] == '-' ? segment.IndexOf('-', i + 1) : -1;
            if (end > i + 1 && int.TryParse(segment.AsSpan(i + 1, end - i - 1), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out int code)
                && code <= 0x10FFFF)
            {
                result.Append(char.ConvertFromUtf32(code));
                i = end;
            }
            else
            {
                result.Append(segment[i]);
            }
        }
        return result.ToString();
    }

    /// <summary>Cuts a key to MLflow's limit, keeping it distinct from every other cut key by a hash of the whole.</summary>
    private static string Bounded(string key)
    {
        if (key.Length <= MaxLength) return key;
        string hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..8];
        return key[..(MaxLength - 11)] + "-x" + hash;
    }
}
