namespace SegSharp.Foundation;

/// <summary>Writes files so a reader never sees half of one: write <c>name.tmp</c>, flush to disk, rename over <c>name</c>.</summary>
internal static class AtomicFile
{
    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes)
    {
        string temp = path + ".tmp";
        try
        {
            using var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None);
            stream.Write(bytes);
            stream.Flush(flushToDisk: true);
        }
        catch
        {
            DeleteQuietly(temp);
            throw;
        }
        File.Move(temp, path, overwrite: true);
    }

    public static void WriteAllText(string path, string text) =>
        WriteAllBytes(path, System.Text.Encoding.UTF8.GetBytes(text));

    /// <summary>Lets <paramref name="write"/> fill a stream, then publishes it atomically.</summary>
    public static void Write(string path, Action<Stream> write)
    {
        string temp = path + ".tmp";
        try
        {
            using var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None);
            write(stream);
            stream.Flush(flushToDisk: true);
        }
        catch
        {
            DeleteQuietly(temp);
            throw;
        }
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>
    /// Removes a half-written temp file after a failed write (a full disk): left behind, it would hold the very space
    /// whose lack failed the write, and the same command would fail again after the user freed some.
    /// </summary>
    public static void DeleteQuietly(string temp)
    {
        try
        {
            File.Delete(temp);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The original failure is what the user needs to see.
        }
    }
}
