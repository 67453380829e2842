using SegSharp.Benchmarks;

namespace SegSharp.Tests.Training;

/// <summary>
/// The shipped recipes, shortened to 12 steps (crops of 128, one thread per process, synchronised batch norm, which
/// equivalence needs), trained by one process, by <c>mpirun -np 2</c> and by one process at 2 threads, with their own
/// losses (cross-entropy + Dice; CamVid's void pixels ignored, so every normalising sum splits unevenly between the ranks).
/// The runs are the benchmark's <see cref="EquivalenceTable"/> (this file's project compiles it in), so docs/performance.md's
/// table and this test are one computation.
/// </summary>
[Collection("training")]
[Trait("Tier", "EndToEnd")]
public sealed class RecipeEquivalenceTests
{
    public static TheoryData<string, string> Recipes()
    {
        var data = new TheoryData<string, string>();
        foreach (var (recipe, optimizer) in EquivalenceTable.Cases) data.Add(recipe, optimizer);
        return data;
    }

    /// <summary>
    /// Two ranks end within 1e-5 of one process, or, where one process alone cannot hold 1e-5 against itself, within the
    /// same order (5x) as the same process at another thread count (another summation order inside the kernels): data
    /// parallelism adds no more than rounding already does (both figures are deterministic on a given CPU). AdamW is such
    /// a case: its first step is lr · sign(gradient) (<see cref="SegSharp.Tests.Losses.DataParallelLossTests"/>' AdamW
    /// test), so a gradient within rounding of zero moves a weight by ±lr on its last bit. So is the CamVid DeepLabV3+,
    /// whose pretrained encoder takes 0..255 pixels: large activations carry large absolute rounding.
    /// </summary>
    [Theory]
    [MemberData(nameof(Recipes))]
    public void Two_ranks_train_the_recipe_s_model_of_one_process_to_rounding(string recipe, string optimizer)
    {
        var row = EquivalenceTable.Row(TestPaths.RepositoryRoot, recipe, optimizer);
        Console.WriteLine($"| {recipe} | {optimizer} | {row.RanksDifference:E1} | {row.ThreadsDifference:E1} |");
        Assert.True(row.RanksDifference <= 1e-5 || row.RanksDifference <= 5 * row.ThreadsDifference,
            $"{recipe}, {optimizer}: 2 ranks differ from 1 process by {row.RanksDifference:E2}; 2 threads from 1 thread by {row.ThreadsDifference:E2}");
    }
}
