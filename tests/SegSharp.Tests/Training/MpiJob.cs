using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;

namespace SegSharp.Tests.Training;

/// <summary>
/// Starts the built CLI under Open MPI's mpirun (Debian's openmpi-bin, which .ci/run installs), as users do:
/// <c>mpirun -np N segsharp train ...</c>. The job runs in its own session (setsid), so a test can kill all of it.
/// </summary>
public static partial class MpiJob
{
    /// <summary>Root in CI; more ranks than the 2 cores in some tests; ranks get a pty from mpirun, so TERM=dumb.</summary>
    private static readonly string[] Launcher = { "--allow-run-as-root", "--oversubscribe", "-x", "TERM=dumb" };

    public static string Cli => Path.Combine(AppContext.BaseDirectory, "SegSharp.Cli.dll");

    /// <summary>mpirun -np <paramref name="ranks"/> dotnet SegSharp.Cli.dll ARGS, to completion.</summary>
    public static (int Code, string Out, string Error) Run(int ranks, IEnumerable<string> args)
    {
        using var job = Start(ranks, args);
        return job.Wait(TimeSpan.FromMinutes(5));
    }

    public static Job Start(int ranks, IEnumerable<string> args, IEnumerable<string>? rankCommand = null)
    {
        var info = new ProcessStartInfo("setsid") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add("mpirun");
        foreach (var a in Launcher) info.ArgumentList.Add(a);
        info.ArgumentList.Add("-np");
        info.ArgumentList.Add(ranks.ToString(System.Globalization.CultureInfo.InvariantCulture));
        foreach (var a in rankCommand ?? new[] { "dotnet", Cli }) info.ArgumentList.Add(a);
        foreach (var a in args) info.ArgumentList.Add(a);
        info.Environment["CI"] = "true";
        return new Job(Process.Start(info)!);
    }

    /// <summary>The "weights sha256: ..." line rank 0 prints at the end of training.</summary>
    public static string WeightsHash(string stdout) =>
        WeightsLine().Match(stdout) is { Success: true } m ? m.Groups[1].Value : throw new InvalidOperationException($"no weights line in:\n{stdout}");

    [GeneratedRegex(@"weights sha256: ([0-9a-f]{64})")]
    private static partial Regex WeightsLine();

    public sealed class Job : IDisposable
    {
        private readonly Process _process;
        private readonly Task<string> _out, _error;

        public Job(Process process)
        {
            _process = process;
            _out = process.StandardOutput.ReadToEndAsync();
            _error = process.StandardError.ReadToEndAsync();
        }

        /// <summary>mpirun's PID, which setsid made the job's process group.</summary>
        public int Pid => _process.Id;

        public (int Code, string Out, string Error) Wait(TimeSpan limit)
        {
            if (!_process.WaitForExit(limit))
            {
                Kill(9);
                throw new TimeoutException($"mpirun did not finish within {limit}; output so far:\n{Snapshot()}");
            }
            _process.WaitForExit();
            return (_process.ExitCode, _out.Result, _error.Result);
        }

        /// <summary>Sends <paramref name="signal"/> to the whole job (mpirun and every rank), as kill -SIG -- -PGID does.</summary>
        public void Kill(int signal)
        {
            foreach (int pid in Ranks().Append(Pid)) _ = kill(pid, signal);
            _ = kill(-Pid, signal);
        }

        /// <summary>Sends <paramref name="signal"/> to mpirun alone (it forwards SIGTERM to every rank).</summary>
        public void Signal(int signal) => _ = kill(Pid, signal);

        /// <summary>PIDs of mpirun's children whose environment says they are MPI ranks, by rank.</summary>
        public IReadOnlyDictionary<int, int> RankPids()
        {
            var ranks = new Dictionary<int, int>();
            foreach (int pid in Ranks())
            {
                try
                {
                    var environment = File.ReadAllText($"/proc/{pid}/environ").Split('\0');
                    var rank = environment.FirstOrDefault(e => e.StartsWith("OMPI_COMM_WORLD_RANK=", StringComparison.Ordinal));
                    if (rank is not null) ranks[int.Parse(rank["OMPI_COMM_WORLD_RANK=".Length..], System.Globalization.CultureInfo.InvariantCulture)] = pid;
                }
                catch (IOException)
                {
                }
            }
            return ranks;
        }

        public void Dispose()
        {
            if (!_process.HasExited) Kill(9);
            _process.Dispose();
        }

        private IEnumerable<int> Ranks()
        {
            foreach (var directory in Directory.EnumerateDirectories("/proc"))
            {
                if (!int.TryParse(Path.GetFileName(directory), out int pid)) continue;
                string stat;
                try
                {
                    stat = File.ReadAllText(Path.Combine(directory, "stat"));
                }
                catch (IOException)
                {
                    continue;
                }
                // "pid (comm) state ppid ...": the parent is the second field after the closing parenthesis.
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                if (fields.Length > 1 && fields[1] == Pid.ToString(System.Globalization.CultureInfo.InvariantCulture)) yield return pid;
            }
        }

        private string Snapshot() => _out.IsCompleted ? _out.Result : "(still running)";
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int signal);
}
