using SegSharp.Configuration;
using SegSharp.Losses;
using SegSharp.Tests.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace SegSharp.Tests.Losses;

/// <summary>
/// Every loss term on a batch split over ranks (threads, <see cref="ThreadGroup"/>) against the same loss on the whole
/// batch in one process: each rank's value is the whole batch's loss, and the ranks' gradients, averaged as data-parallel
/// training averages them, are the whole batch's gradient. Masks hold ignored pixels (unevenly: one rank's share has
/// none valid in one case), so every normalising sum differs between the shares.
/// </summary>
public class DataParallelLossTests
{
    private const long Ignore = 255;

    public static TheoryData<string> Terms => new()
    {
        "cross_entropy",
        "cross_entropy class_weights=[0.2, 1.0, 3.0] label_smoothing=0.1",
        "cross_entropy border_weight=10 border_sigma=2",
        "dice",
        "dice exclude_background=true smooth=0.5",
        "focal gamma=2 alpha=[0.25, 0.5, 1.0]",
        "cross_entropy class_weights=[0.5, 1.0, 2.0] + dice",
        "tversky alpha=0.3 beta=0.7",
        "tversky gamma=0.75 exclude_background=true",
        "ohem_cross_entropy threshold=0.6 class_weights=[0.5, 1.0, 2.0]",
        "lovasz_softmax",
        "ohem_cross_entropy threshold=0.6 + lovasz_softmax",
    };

    [Theory]
    [MemberData(nameof(Terms))]
    public void Split_over_ranks_a_loss_has_the_whole_batch_s_value_and_averaged_gradient(string terms)
    {
        foreach (int ranks in new[] { 2, 3 })
            foreach (bool oneShareIgnored in new[] { false, true })
                Check(terms, ranks, oneShareIgnored, binary: false);
    }

    [Fact]
    public void Binary_dice_split_over_ranks_has_the_whole_batch_s_value_and_averaged_gradient()
    {
        Check("dice mode=binary", 2, oneShareIgnored: false, binary: true);
        Check("dice mode=binary", 2, oneShareIgnored: true, binary: true);
    }

    private static void Check(string terms, int ranks, bool oneShareIgnored, bool binary)
    {
        int perRank = 2, batch = perRank * ranks, classes = binary ? 1 : 3, size = 12;
        using var generator = new Generator(0);
        generator.manual_seed(17);
        var logits = randn(new long[] { batch, classes, size, size }, generator: generator) * 2;
        var target = randint(binary ? 2 : classes, new long[] { batch, size, size }, generator: generator);
        target = target.masked_fill(rand(new long[] { batch, size, size }, generator: generator).lt(0.2), Ignore);
        if (oneShareIgnored) target[TensorIndex.Slice(batch - perRank, batch)] = full(new long[] { perRank, size, size }, Ignore);
        var loss = Loss(terms);

        var whole = logits.clone().requires_grad_(true);
        var wholeValue = loss.Compute(whole, target);
        wholeValue.backward();
        var wholeGrad = whole.grad!.clone();

        var results = ThreadGroup.Run(ranks, collective =>
        {
            var share = logits[TensorIndex.Slice(collective.Rank * perRank, (collective.Rank + 1) * perRank)].clone().requires_grad_(true);
            var value = loss.Compute(share, target[TensorIndex.Slice(collective.Rank * perRank, (collective.Rank + 1) * perRank)],
                BatchReduction.Across(collective));
            value.backward();
            return (Value: value.item<float>(), Grad: share.grad!.clone());
        });

        foreach (var (value, _) in results) Assert.Equal(wholeValue.item<float>(), value, 5);
        // Data-parallel training averages the ranks' gradients: that average, rank by rank, is the whole batch's gradient.
        var averaged = cat(results.Select(r => r.Grad).ToArray()) / ranks;
        double difference = (averaged - wholeGrad).abs().max().item<float>(), scale = wholeGrad.abs().max().item<float>();
        Assert.True(difference <= 1e-6 + 1e-5 * scale, $"{terms}, {ranks} ranks: gradients differ by {difference:E2} (largest {scale:E2})");
    }

    /// <summary>
    /// Why AdamW runs that differ only in rounding cannot agree to 1e-5 (docs/distributed.md): Adam's first step is
    /// lr · m̂/(√v̂ + ε) = lr · sign(g) for any |g| ≫ ε (1e-8), so two gradients that differ in rounding around zero move a
    /// weight 2·lr apart, as far as gradients 1000 times larger would.
    /// </summary>
    [Fact]
    public void AdamW_s_first_step_is_the_sign_of_the_gradient_so_rounding_around_zero_becomes_a_learning_rate_step()
    {
        var moved = new[] { 1e-4f, -1e-4f, 1e-1f }.Select(g =>
        {
            using var weight = new TorchSharp.Modules.Parameter(zeros(1));
            using var optimizer = optim.AdamW(new[] { weight }, lr: 0.003, eps: 1e-8, weight_decay: 0);
            weight.grad = full(1, g);
            optimizer.step();
            return weight.item<float>();
        }).ToArray();
        Assert.Equal(-0.003, moved[0], 5);        // a gradient of 1e-4 moves the weight by the whole learning rate ...
        Assert.Equal(0.003, moved[1], 5);         // ... and its opposite by the same amount the other way: 2·lr apart
        Assert.Equal(moved[0], moved[2], 5);      // as far as a gradient 1000 times larger
    }

    /// <summary>"cross_entropy class_weights=[..] + dice": the terms as a config would give them.</summary>
    private static ISegmentationLoss Loss(string terms)
    {
        var settings = new List<string>();
        var parts = terms.Split(" + ");
        for (int i = 0; i < parts.Length; i++)
        {
            var words = parts[i].Split(' ', 2);
            settings.Add($"loss.terms[{i}].name={words[0]}");
            if (words.Length > 1)
                foreach (var setting in System.Text.RegularExpressions.Regex.Matches(words[1], @"(\w+)=(\[[^\]]*\]|\S+)"))
                {
                    var m = (System.Text.RegularExpressions.Match)setting;
                    settings.Add($"loss.terms[{i}].{m.Groups[1].Value}={m.Groups[2].Value}");
                }
        }
        var config = SegSharpConfig.Load(null, settings);
        return WeightedLoss.Create(config.Loss.Where((_, i) => i < parts.Length).ToList(), Ignore);
    }
}
