namespace SegSharp.Foundation;

/// <summary>Writes files so a reader never sees half of one: write <c>name.tmp</c>, flush to disk, rename over <c>name</c>.</summary>
internal static class AtomicFile
{
    public static void WriteAllBytes(string path, ReadOnlyMemory<byte> bytes) => Write(path, stream => stream.Write(bytes.Span));

    public static void WriteAllText(string path, string text) => WriteAllBytes(path, System.Text.Encoding.UTF8.GetBytes(text));

    /// <summary>Lets <paramref name="write"/> fill a stream, then publishes it atomically.</summary>
    public static void Write(string path, Action<Stream> write)
    {
        string temp = path + ".tmp";
        WriteTemp(temp, write);
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>
    /// Fills <paramref name="temp"/> and flushes it to disk; a failed write (a full disk) deletes it: left behind, it would
    /// hold the very space whose lack failed the write, and the same command would fail again after the user freed some.
    /// </summary>
    public static void WriteTemp(string temp, Action<Stream> write)
    {
        try
        {
            using var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None);
            write(stream);
            stream.Flush(flushToDisk: true);
        }
        catch
        {
            try
            {
                File.Delete(temp);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // The original failure is what the user needs to see.
            }
            throw;
        }
    }
}
