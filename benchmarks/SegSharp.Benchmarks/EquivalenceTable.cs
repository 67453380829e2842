using System.Diagnostics;
using SegSharp.Inference;

namespace SegSharp.Benchmarks;

/// <summary>One shipped recipe, shortened, trained by 1 process, by 2 ranks, and by 1 process at 2 threads.</summary>
public sealed record EquivalenceRow(string Recipe, string Optimizer, double RanksDifference, double ThreadsDifference);

/// <summary>
/// The data-parallel equivalence table of docs/distributed.md, measured: the shipped recipes shortened to 12 steps (crops
/// of 128, one thread per process, synchronised batch norm, their own losses), each trained by the CLI as one process, as
/// <c>mpirun -np 2</c> and as one process with 2 threads; the largest difference of any weight or buffer of the last
/// checkpoints, 2 ranks against 1 process and, for scale, 2 threads against 1. The test suite compiles this file in and
/// asserts each row (RecipeEquivalenceTests), so the figures and the test are one computation.
/// </summary>
public static class EquivalenceTable
{
    /// <summary>The recipes with their own loss terms; the optimiser theirs (AdamW) or SGD.</summary>
    public static readonly (string Recipe, string Optimizer)[] Cases =
    {
        ("default", "adamw"), ("default", "sgd"), ("isbi-unet.yaml", "sgd"), ("camvid-deeplab.yaml", "sgd"),
    };

    /// <param name="root">The repository (its configs/ and built CLI), with ../shared beside it.</param>
    public static List<EquivalenceRow> Measure(string root) => Cases.Select(c => Row(root, c.Recipe, c.Optimizer)).ToList();

    /// <summary>One recipe's three runs and their differences, in a temp folder removed afterwards.</summary>
    public static EquivalenceRow Row(string root, string recipe, string optimizer)
    {
        string work = Directory.CreateTempSubdirectory("segsharp-equivalence-").FullName;
        try
        {
            string one = Train(root, work, recipe, optimizer, ranks: 1, threads: 1);
            string two = Train(root, work, recipe, optimizer, ranks: 2, threads: 1);
            string threads = Train(root, work, recipe, optimizer, ranks: 1, threads: 2);
            return new EquivalenceRow(recipe, optimizer, Difference(one, two), Difference(one, threads));
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static string Train(string root, string work, string recipe, string optimizer, int ranks, int threads)
    {
        string folder = Path.Combine(work, $"{recipe}-{optimizer}-{ranks}r{threads}t");
        var settings = new List<string>
        {
            $"output.dir={folder}", "train.epochs=1", "train.iters_per_epoch=12", $"train.threads={threads}", "train.sync_batch_norm=true",
            "data.workers=1", "train.checkpoint_every=0",
        };
        if (optimizer == "sgd") settings.AddRange(new[] { "optimizer.name=sgd", "optimizer.lr=0.01" });
        if (recipe != "default") settings.Add("transforms.train[1].size=[128, 128]");
        if (recipe == "camvid-deeplab.yaml") settings.Add($"data.dataset={SmallCamvid(root, work)}");
        var start = new ProcessStartInfo(ranks > 1 ? "mpirun" : "dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        if (ranks > 1)
            foreach (var a in new[] { "--allow-run-as-root", "--oversubscribe", "-x", "TERM=dumb", "-np", $"{ranks}", "dotnet" }) start.ArgumentList.Add(a);
        start.ArgumentList.Add(Path.Combine(root, "src", "SegSharp.Cli", "bin", "Release", "net10.0", "SegSharp.Cli.dll"));
        foreach (var a in new[] { "train", "--quiet", "--no-evaluate" }) start.ArgumentList.Add(a);
        if (recipe != "default")
        {
            start.ArgumentList.Add("--config");
            start.ArgumentList.Add(Path.Combine(root, "configs", recipe));
        }
        foreach (var s in settings)
        {
            start.ArgumentList.Add("--set");
            start.ArgumentList.Add(s);
        }
        start.Environment["CI"] = "true";
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        string error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InvalidOperationException($"training {recipe} ({ranks} ranks) failed:\n{output.Result}\n{error}");
        return Path.Combine(folder, "checkpoints", "last.ckpt");
    }

    /// <summary>The CamVid description with 4 validation frames, so validation does not dominate a 12-step run.</summary>
    private static string SmallCamvid(string root, string work)
    {
        string configs = Path.Combine(root, "configs"), validation = Path.Combine(work, "camvid-val.txt");
        string description = Path.Combine(work, "camvid.dataset.yaml");
        File.WriteAllLines(validation, File.ReadLines(Path.Combine(configs, "camvid", "val.txt")).Take(4));
        string camvid = Path.GetFullPath(Path.Combine(root, "..", "shared", "datasets", "camvid-sequences"));
        File.WriteAllText(description, File.ReadAllText(Path.Combine(configs, "camvid-sequences.dataset.yaml"))
            .Replace("root: ../../shared/datasets/camvid-sequences", $"root: {camvid}", StringComparison.Ordinal)
            .Replace("train: camvid/train.txt", $"train: {Path.Combine(configs, "camvid", "train.txt")}", StringComparison.Ordinal)
            .Replace("val: camvid/val.txt", $"val: {validation}", StringComparison.Ordinal));
        return description;
    }

    private static double Difference(string a, string b)
    {
        using var first = TrainedModel.Load(a);
        using var second = TrainedModel.Load(b);
        var other = second.Model.state_dict();
        return first.Model.state_dict().Max(kv =>
            (kv.Value.to(TorchSharp.torch.ScalarType.Float64) - other[kv.Key].to(TorchSharp.torch.ScalarType.Float64)).abs().max().item<double>());
    }
}
