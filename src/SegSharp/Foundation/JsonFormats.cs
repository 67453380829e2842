using System.Text.Json;
using System.Text.Json.Serialization;

namespace SegSharp.Foundation;

/// <summary>
/// The JSON settings of every file SegSharp writes: snake_case keys, NaN and infinities allowed as named literals.
/// One place, so checkpoints, run files and reports read back with the same rules they were written with.
/// </summary>
internal static class JsonFormats
{
    /// <summary>Compact, one value per line (checkpoint state, metrics.jsonl).</summary>
    public static readonly JsonSerializerOptions Compact = new()
    {
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        WriteIndented = false,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new OptionNameJsonConverter() },
    };

    /// <summary>Indented, for files people open (summary.json, metrics.json).</summary>
    public static readonly JsonSerializerOptions Pretty = new(Compact) { WriteIndented = true };
}
