using SegSharp.Foundation;

namespace SegSharp.Training;

/// <summary>
/// The run's checkpoints: <c>last.ckpt</c> (newest), <c>previous.ckpt</c> (the one before) and <c>best.ckpt</c>.
/// A new checkpoint is written completely to a temp file and flushed before the old last becomes previous and
/// the temp file becomes last, so a kill at any moment leaves at least one complete, checksummed checkpoint.
/// </summary>
public sealed class CheckpointStore
{
    public CheckpointStore(string directory, bool create = true)
    {
        Directory = directory;
        if (create) System.IO.Directory.CreateDirectory(directory);
    }

    public string Directory { get; }
    public string LastPath => Path.Combine(Directory, "last.ckpt");
    public string PreviousPath => Path.Combine(Directory, "previous.ckpt");
    public string BestPath => Path.Combine(Directory, "best.ckpt");

    private Task _pending = Task.CompletedTask;

    /// <summary>
    /// Writes <paramref name="bytes"/> as the new last checkpoint on a background thread, after any write still in
    /// flight, so training continues while the file is flushed to disk. Until it lands, the previous checkpoint is
    /// the newest complete one (resuming from it gives the same final weights). Errors of an earlier write surface here.
    /// </summary>
    public void SaveLastInBackground(ReadOnlyMemory<byte> bytes)
    {
        WaitForWrites();
        _pending = Task.Run(() => SaveLast(bytes));
    }

    /// <summary>Blocks until background writes have landed; rethrows the first one's failure.</summary>
    public void WaitForWrites()
    {
        var pending = _pending;
        _pending = Task.CompletedTask;
        pending.GetAwaiter().GetResult();
    }

    public void SaveLast(ReadOnlyMemory<byte> bytes)
    {
        string temp = LastPath + ".tmp";
        AtomicFile.WriteTemp(temp, stream => stream.Write(bytes.Span));
        if (File.Exists(LastPath)) File.Move(LastPath, PreviousPath, overwrite: true);
        File.Move(temp, LastPath, overwrite: true);
    }

    public void SaveBest(ReadOnlyMemory<byte> bytes) => AtomicFile.WriteAllBytes(BestPath, bytes);

    public bool Any => File.Exists(LastPath) || File.Exists(PreviousPath);

    /// <summary>
    /// The newest checkpoint that passes its checksum, trying last then previous; each one skipped is reported
    /// through <paramref name="report"/>. Null when there is none.
    /// </summary>
    public (string Path, byte[] Bytes, CheckpointContents Contents)? LoadNewestValid(Action<string> report)
    {
        foreach (var path in new[] { LastPath, PreviousPath })
        {
            if (!File.Exists(path)) continue;
            try
            {
                var bytes = File.ReadAllBytes(path);
                return (path, bytes, Checkpoint.Parse(bytes));
            }
            catch (InvalidDataException e)
            {
                report($"Checkpoint '{path}' is unusable: {e.Message}; trying the previous one.");
            }
        }
        return null;
    }
}
