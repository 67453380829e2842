namespace SegSharp.Benchmarks;

/// <summary>
/// Command-line options: <c>--threads N</c> (0 = one per core), <c>--quick</c> (a smoke run that writes nothing),
/// <c>--part unet|deeplab|distributed|deploy|memory|all</c> (default all; each part writes its own files; deploy runs only when
/// asked, on the trained model of <c>--run DIR</c>; memory, the long runs, only when asked); <c>--section NAME</c> is internal (the
/// program starting itself for one section).
/// </summary>
public sealed record BenchmarkOptions(int Threads, bool Quick, string? Section, string Part = "all", string Run = DeploymentBenchmark.DefaultRun)
{
    public static BenchmarkOptions Parse(string[] args)
    {
        int threads = 0;
        bool quick = false;
        string? section = null;
        string part = "all", run = DeploymentBenchmark.DefaultRun;
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--threads" && i + 1 < args.Length && int.TryParse(args[i + 1], out threads) && threads >= 0) i++;
            else if (args[i] == "--quick") quick = true;
            else if (args[i] == "--section" && i + 1 < args.Length) section = args[++i];
            else if (args[i] == "--part" && i + 1 < args.Length && args[i + 1] is "unet" or "deeplab" or "distributed" or "deploy" or "memory"
                     or "all") part = args[++i];
            else if (args[i] == "--run" && i + 1 < args.Length) run = args[++i];
            else
                throw new ArgumentException($"Unknown benchmark argument '{args[i]}'. Use --threads N (N >= 0), " +
                    "--part unet|deeplab|distributed|deploy|memory|all, " +
                    "--run DIR (deploy), --quick.");
        }
        return new BenchmarkOptions(threads, quick, section, part, run);
    }

    /// <summary>The folder holding SegSharp.slnx, searched upwards from the working directory.</summary>
    public static string RepositoryRoot()
    {
        for (var folder = new DirectoryInfo(Directory.GetCurrentDirectory()); folder is not null; folder = folder.Parent)
            if (File.Exists(Path.Combine(folder.FullName, "SegSharp.slnx"))) return folder.FullName;
        throw new InvalidOperationException("Run the benchmark from inside the SegSharp repository (no SegSharp.slnx found upwards).");
    }
}
