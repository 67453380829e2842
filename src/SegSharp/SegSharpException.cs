namespace SegSharp;

/// <summary>
/// An error a person can act on: bad input, a bad config value, a missing file. The message is one line that
/// names the file or key, the value and the fix. The CLI prints it without a stack trace and exits non-zero.
/// </summary>
public class SegSharpException : Exception
{
    public SegSharpException(string message) : base(message) { }

    public SegSharpException(string message, Exception inner) : base(message, inner) { }
}
