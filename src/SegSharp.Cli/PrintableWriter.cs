using System.Text;

namespace SegSharp.Cli;

/// <summary>
/// What the CLI prints, with control characters shown, not obeyed: a file name holding an escape sequence
/// (<c>\e]0;...</c>, <c>\e[2J</c>) is printed as <c>\x1b]0;...</c> instead of retitling or clearing the user's
/// terminal. Newlines and tabs pass. Installed over stdout and stderr at start-up; Spectre's own progress rendering
/// writes to the raw stream and passes its text through <see cref="Escape"/> first.
/// </summary>
public sealed class PrintableWriter(TextWriter inner) : TextWriter
{
    public override Encoding Encoding => inner.Encoding;

    /// <summary><paramref name="text"/> with every control character but newline and tab written as \xHH (\u2028 and the like as \uHHHH).</summary>
    public static string Escape(string text)
    {
        if (!text.Any(NeedsEscape)) return text;
        var result = new StringBuilder(text.Length + 8);
        foreach (char c in text) result.Append(NeedsEscape(c) ? (c <= 0xFF ? $"\\x{(int)c:x2}" : $"\\u{(int)c:x4}") : c);
        return result.ToString();
    }

    public override void Write(char value)
    {
        if (NeedsEscape(value)) inner.Write(Escape(value.ToString()));
        else inner.Write(value);
    }

    public override void Write(string? value) => inner.Write(value is null ? null : Escape(value));

    public override void WriteLine(string? value) => inner.WriteLine(value is null ? null : Escape(value));

    public override void Write(char[] buffer, int index, int count) => Write(new string(buffer, index, count));

    public override void Flush() => inner.Flush();

    /// <summary>C0 controls but \n and \t (\r too: it lets a name overwrite the line), DEL, C1 controls, line/paragraph separators.</summary>
    private static bool NeedsEscape(char c) => (c < 0x20 && c is not '\n' and not '\t') || c is >= '\x7f' and <= '\x9f' or '\u2028' or '\u2029';
}
