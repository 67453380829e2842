namespace SegSharp.Training;

/// <summary>
/// An exclusive lock on a run directory (<c>run.lock</c>, an advisory flock held while the file is open), so a
/// second <c>train</c> on the same folder refuses instead of interleaving checkpoints. The kernel releases it when
/// the process ends, however it ends, so a crash never leaves a stale lock: a leftover file is simply taken.
/// </summary>
internal sealed class RunLock : IDisposable
{
    private readonly FileStream _stream;
    private readonly string _path;

    private RunLock(FileStream stream, string path)
    {
        _stream = stream;
        _path = path;
    }

    public static RunLock Acquire(string runDirectory)
    {
        string path = Path.Combine(runDirectory, "run.lock");
        try
        {
            var stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            stream.SetLength(0);
            stream.Write(System.Text.Encoding.UTF8.GetBytes($"segsharp train, PID {Environment.ProcessId}\n"));
            stream.Flush();
            return new RunLock(stream, path);
        }
        catch (IOException) when (File.Exists(path))
        {
            string holder = HolderPid(path) is int pid ? $"PID {pid}" : "another process";
            throw new SegSharpException($"Run directory '{runDirectory}' is in use by another 'segsharp train' ({holder}). " +
                "Wait for it to finish or stop it, or choose another output.dir.");
        }
    }

    public void Dispose()
    {
        _stream.Dispose();
        try
        {
            File.Delete(_path);
        }
        catch (IOException)
        {
            // Another run took the lock between closing and deleting: the file is theirs now.
        }
    }

    /// <summary>The process holding <paramref name="path"/> open, found through /proc (Linux); null elsewhere or if unreadable.</summary>
    private static int? HolderPid(string path)
    {
        if (!Directory.Exists("/proc")) return null;
        string full = Path.GetFullPath(path);
        foreach (var process in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(process), out int pid) || pid == Environment.ProcessId) continue;
            try
            {
                foreach (var fd in Directory.EnumerateFiles(Path.Combine(process, "fd")))
                    if (new FileInfo(fd).LinkTarget == full) return pid;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // A process that ended or is not ours to inspect.
            }
        }
        return null;
    }
}
