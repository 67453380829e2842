using SegSharp.Inference;
using SegSharp.Tests.Cli;

namespace SegSharp.Tests.Training;

/// <summary>
/// The shipped recipes, shortened to 12 steps (smaller crops, one thread per process), trained by one process and by
/// <c>mpirun -np 2</c>, with the recipes' own losses (cross-entropy + Dice; CamVid's void pixels ignored, so every
/// normalising sum splits unevenly between the ranks). Batch norm is synchronised (<c>train.sync_batch_norm</c>), which
/// equivalence needs: without it each process normalises by its own half.
/// </summary>
[Collection("training")]
[Trait("Tier", "EndToEnd")]
public sealed class RecipeEquivalenceTests : IDisposable
{
    private static readonly string[] Shortened =
    {
        "train.epochs=1", "train.iters_per_epoch=12", "train.threads=1", "train.sync_batch_norm=true", "data.workers=1", "train.checkpoint_every=0",
    };

    private readonly string _root = TestPaths.TempFolder("recipes-mpi");

    public void Dispose() => Directory.Delete(_root, recursive: true);

    /// <summary>The recipes with their own loss terms; the optimiser theirs (AdamW) or SGD.</summary>
    public static TheoryData<string, string> Recipes => new()
    {
        { "default", "adamw" }, { "default", "sgd" }, { "isbi-unet.yaml", "sgd" }, { "camvid-deeplab.yaml", "sgd" },
    };

    /// <summary>
    /// Two ranks end within 1e-5 of one process, or, where one process alone cannot hold 1e-5 against itself, within the
    /// same order (5x) as the same process at another thread count (another summation order inside the kernels): data
    /// parallelism adds no more than rounding already does. (Both figures are deterministic on a given CPU.) AdamW is such a case: its first step is lr · sign(gradient)
    /// (<see cref="SegSharp.Tests.Losses.DataParallelLossTests"/>' AdamW test), so a gradient within rounding of zero moves
    /// a weight by ±lr on its last bit. So is the CamVid DeepLabV3+ with its pretrained encoder fed 0..255 pixels, whose
    /// large activations carry large absolute rounding.
    /// </summary>
    [Theory]
    [MemberData(nameof(Recipes))]
    public void Two_ranks_train_the_recipe_s_model_of_one_process_to_rounding(string recipe, string optimizer)
    {
        string[] chosen = optimizer == "sgd" ? new[] { "optimizer.name=sgd", "optimizer.lr=0.01" } : Array.Empty<string>();
        string one = Train(recipe, $"{optimizer}-1", 1, 1, chosen);
        double ranks = Difference(one, Train(recipe, $"{optimizer}-2r", 2, 1, chosen));
        double threads = Difference(one, Train(recipe, $"{optimizer}-2t", 1, 2, chosen));
        Console.WriteLine($"| {recipe} | {optimizer} | {ranks:E1} | {threads:E1} |");
        Assert.True(ranks <= 1e-5 || ranks <= 5 * threads,
            $"{recipe}, {optimizer}: 2 ranks differ from 1 process by {ranks:E2}; 2 threads from 1 thread by {threads:E2}");
    }

    /// <summary>Trains <paramref name="recipe"/> shortened into a new folder; returns its last checkpoint.</summary>
    private string Train(string recipe, string name, int ranks, int threads, params string[] extra)
    {
        string folder = Path.Combine(_root, $"{recipe}-{name}");
        var args = new List<string> { "train", "--quiet", "--no-evaluate", "--set", $"output.dir={folder}" };
        if (recipe != "default") args.AddRange(new[] { "--config", TestPaths.Config(recipe) });
        foreach (var s in Shortened.Concat(Smaller(recipe)).Append($"train.threads={threads}").Concat(extra)) args.AddRange(new[] { "--set", s });
        var (code, output, error) = ranks == 1 ? CliProcess.Run(args) : MpiJob.Run(ranks, args);
        Assert.True(code == 0, output + error);
        return Path.Combine(folder, "checkpoints", "last.ckpt");
    }

    /// <summary>Crops of 128 and, for CamVid, 4 validation frames: the same losses and optimiser on less work.</summary>
    private IEnumerable<string> Smaller(string recipe)
    {
        if (recipe == "default") yield break;
        yield return "transforms.train[1].size=[128, 128]";
        if (recipe != "camvid-deeplab.yaml") yield break;
        string configs = Path.Combine(TestPaths.RepositoryRoot, "configs");
        string validation = Path.Combine(_root, "camvid-val.txt"), description = Path.Combine(_root, "camvid.dataset.yaml");
        File.WriteAllLines(validation, File.ReadLines(Path.Combine(configs, "camvid", "val.txt")).Take(4));
        File.WriteAllText(description, File.ReadAllText(Path.Combine(configs, "camvid-sequences.dataset.yaml"))
            .Replace("root: ../../shared/datasets/camvid-sequences", $"root: {Path.Combine(TestPaths.SharedDatasets, "camvid-sequences")}",
                StringComparison.Ordinal)
            .Replace("train: camvid/train.txt", $"train: {Path.Combine(configs, "camvid", "train.txt")}", StringComparison.Ordinal)
            .Replace("val: camvid/val.txt", $"val: {validation}", StringComparison.Ordinal));
        yield return $"data.dataset={description}";
    }

    /// <summary>Largest absolute difference over every weight and buffer of two checkpoints.</summary>
    private static double Difference(string a, string b)
    {
        using var first = TrainedModel.Load(a);
        using var second = TrainedModel.Load(b);
        var other = second.Model.state_dict();
        return first.Model.state_dict().Max(kv =>
            (kv.Value.to(TorchSharp.torch.ScalarType.Float64) - other[kv.Key].to(TorchSharp.torch.ScalarType.Float64)).abs().max().item<double>());
    }
}
