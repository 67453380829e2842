using SegSharp.Configuration;
using SegSharp.Losses;
using TorchSharp;
using static TorchSharp.torch;

namespace SegSharp.Tests.Losses;

/// <summary>
/// One image of 1x3 pixels and 2 classes. Logits per pixel: (1, 0), (0, 2), (3, 3); targets 0, 1 and ignore (255).
/// Expected values are computed here with plain doubles from the definitions.
/// </summary>
public class LossTests
{
    private const long Ignore = 255;
    private static readonly double[][] PixelLogits = { new[] { 1.0, 0.0 }, new[] { 0.0, 2.0 }, new[] { 3.0, 3.0 } };
    private static readonly long[] Targets = { 0, 1, Ignore };

    private static Tensor Logits(bool grad = false)
    {
        var values = new float[6];
        for (int p = 0; p < 3; p++)
            for (int c = 0; c < 2; c++) values[c * 3 + p] = (float)PixelLogits[p][c];
        return tensor(values, new long[] { 1, 2, 1, 3 }).requires_grad_(grad);
    }

    private static Tensor Target() => tensor(Targets, new long[] { 1, 1, 3 });

    private static double Softmax(int pixel, int cls) =>
        Math.Exp(PixelLogits[pixel][cls]) / PixelLogits[pixel].Sum(Math.Exp);

    private static double Value(ISegmentationLoss loss)
    {
        using var logits = Logits();
        using var target = Target();
        using var value = loss.Compute(logits, target);
        return value.item<float>();
    }

    [Fact]
    public void Cross_entropy_is_the_mean_negative_log_likelihood_of_valid_pixels()
    {
        double expected = (-Math.Log(Softmax(0, 0)) - Math.Log(Softmax(1, 1))) / 2;
        Assert.Equal(expected, Value(new CrossEntropyLoss(Ignore)), 5);
    }

    [Fact]
    public void Class_weighted_cross_entropy_is_the_weighted_mean()
    {
        double w0 = 0.25, w1 = 2.0;
        double expected = (w0 * -Math.Log(Softmax(0, 0)) + w1 * -Math.Log(Softmax(1, 1))) / (w0 + w1);
        Assert.Equal(expected, Value(new CrossEntropyLoss(Ignore, new[] { w0, w1 })), 5);
    }

    [Fact]
    public void Label_smoothing_mixes_in_the_mean_log_probability_of_all_classes()
    {
        double eps = 0.1;
        double Smoothed(int p, int t) => (1 - eps) * -Math.Log(Softmax(p, t)) + eps * -(Math.Log(Softmax(p, 0)) + Math.Log(Softmax(p, 1))) / 2;
        double expected = (Smoothed(0, 0) + Smoothed(1, 1)) / 2;
        Assert.Equal(expected, Value(new CrossEntropyLoss(Ignore, null, eps)), 5);
    }

    [Fact]
    public void Multiclass_dice_is_one_minus_the_mean_soft_dice_over_classes()
    {
        double Dice(int c, double s)
        {
            double inter = 0, card = 0;
            for (int p = 0; p < 2; p++)
            {
                double prob = Softmax(p, c), truth = Targets[p] == c ? 1 : 0;
                inter += prob * truth;
                card += prob + truth;
            }
            return (2 * inter + s) / (card + s);
        }
        Assert.Equal(1 - (Dice(0, 1) + Dice(1, 1)) / 2, Value(new DiceLoss(Ignore, smooth: 1)), 5);
        Assert.Equal(1 - Dice(1, 0), Value(new DiceLoss(Ignore, smooth: 0, excludeBackground: true)), 5);
    }

    [Fact]
    public void Binary_dice_uses_the_sigmoid_of_one_channel()
    {
        using var logits = tensor(new[] { 2f, -1f, 0.5f, 7f }, new long[] { 1, 1, 2, 2 });
        using var target = tensor(new long[] { 1, 0, 1, Ignore }, new long[] { 1, 2, 2 });
        double S(double x) => 1 / (1 + Math.Exp(-x));
        double inter = S(2) + S(0.5), card = S(2) + S(-1) + S(0.5) + 2;
        using var value = new DiceLoss(Ignore, smooth: 0, binary: true).Compute(logits, target);
        Assert.Equal(1 - 2 * inter / card, value.item<float>(), 5);
    }

    [Fact]
    public void Focal_loss_down_weights_easy_pixels_by_one_minus_pt_to_the_gamma()
    {
        double gamma = 2, a0 = 0.25, a1 = 0.75;
        double F(int p, int t, double alpha) => -alpha * Math.Pow(1 - Softmax(p, t), gamma) * Math.Log(Softmax(p, t));
        Assert.Equal((F(0, 0, 1) + F(1, 1, 1)) / 2, Value(new FocalLoss(Ignore, gamma)), 5);
        Assert.Equal((F(0, 0, a0) + F(1, 1, a1)) / 2, Value(new FocalLoss(Ignore, gamma, new[] { a0, a1 })), 5);
        Assert.Equal(Value(new CrossEntropyLoss(Ignore)), Value(new FocalLoss(Ignore, 0)), 5);
    }

    [Fact]
    public void Weighted_sum_adds_weighted_terms()
    {
        var loss = WeightedLoss.Create(new LossTermSpec[]
        {
            new CrossEntropySpec(Weight: 1.0),
            new DiceSpec(Weight: 0.5, Smooth: 1.0),
        }, Ignore);
        double expected = Value(new CrossEntropyLoss(Ignore)) + 0.5 * Value(new DiceLoss(Ignore, 1.0));
        Assert.Equal(expected, Value(loss), 5);
    }

    public static TheoryData<string> AllLosses => new(Enum.GetValues<LossKind>().Select(SegSharp.Foundation.OptionNames<LossKind>.Name));

    [Theory]
    [MemberData(nameof(AllLosses))]
    public void Ignored_pixels_get_no_gradient_and_do_not_change_the_value(string name)
    {
        var kind = SegSharp.Foundation.OptionNames<LossKind>.Parse(name, "loss");
        // OHEM's default threshold drops this data's easy pixel (p = 0.73 > 0.7); at 1 it keeps every valid pixel.
        var spec = kind == LossKind.OhemCrossEntropy ? new OhemCrossEntropySpec(Threshold: 1.0) : LossTermSpec.Default(kind);
        var loss = WeightedLoss.Create(new[] { spec }, Ignore);
        using var logits = Logits(grad: true);
        using var target = Target();
        using var value = loss.Compute(logits, target);
        value.backward();
        using var grad = logits.grad!;
        Assert.Equal(0f, grad[0, .., 0, 2].abs().sum().item<float>());
        Assert.True(grad[0, .., 0, 0].abs().sum().item<float>() > 0);
        // Changing the ignored pixel's logits changes nothing.
        using var other = Logits();
        using (no_grad()) other[0, 0, 0, 2] = tensor(-40f);
        using var again = loss.Compute(other, target);
        Assert.Equal(value.item<float>(), again.item<float>(), 6);
    }

    [Fact]
    public void A_fully_ignored_batch_gives_zero_not_nan()
    {
        using var logits = Logits(grad: true);
        using var target = full(new long[] { 1, 1, 3 }, Ignore, dtype: int64);
        foreach (var loss in new ISegmentationLoss[] { new CrossEntropyLoss(Ignore), new FocalLoss(Ignore) })
        {
            using var value = loss.Compute(logits, target);
            Assert.Equal(0f, value.item<float>());
        }
    }
}
