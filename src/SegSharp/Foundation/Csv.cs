namespace SegSharp.Foundation;

/// <summary>
/// Text fields of the CSV files SegSharp writes, per RFC 4180: a field with a comma, quote or line break is quoted
/// (quotes doubled), and a field starting with =, +, -, @ (or a tab or carriage return) gets a leading apostrophe
/// so a spreadsheet shows it as text instead of running it as a formula.
/// </summary>
internal static class Csv
{
    public static string Field(string text)
    {
        if (text.Length > 0 && text[0] is '=' or '+' or '-' or '@' or '\t' or '\r') text = "'" + text;
        bool quote = text.AsSpan().IndexOfAny(",\"\r\n") >= 0;
        return quote ? "\"" + text.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : text;
    }
}
