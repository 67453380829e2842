using System.Globalization;
using SegSharp.Losses;
using static TorchSharp.torch;

namespace SegSharp.Tests.Losses;

/// <summary>
/// The losses for rare classes (Tversky, OHEM cross-entropy, Lovász-softmax), each checked on small tensors: values and
/// gradients against Debian's PyTorch running each paper's definition (one script, written from the papers, for all of
/// them), plus closed forms that tie them to the losses already checked (Tversky at α = β = 0.5 is soft Dice; OHEM that
/// keeps everything is cross-entropy).
/// </summary>
public class RareClassLossTests
{
    private const long Ignore = 255;
    private const int N = 2, C = 4, H = 5, W = 6;

    /// <summary>Logits in [-3, 3] and labels with about one ignored pixel in eight; class 3 is rare (a few pixels).</summary>
    private static (float[] Logits, long[] Labels) Data()
    {
        var random = new Random(7);
        var logits = Enumerable.Range(0, N * C * H * W).Select(_ => (float)(random.NextDouble() * 6 - 3)).ToArray();
        var labels = Enumerable.Range(0, N * H * W).Select(_ =>
        {
            double u = random.NextDouble();
            return u < 0.125 ? Ignore : u < 0.16 ? 3L : (long)random.Next(0, 3);
        }).ToArray();
        return (logits, labels);
    }

    /// <summary>The loss and its gradient with respect to the logits, from SegSharp.</summary>
    private static (double Value, float[] Gradient) Ours(ISegmentationLoss loss)
    {
        var (l, y) = Data();
        using var logits = tensor(l, new long[] { N, C, H, W }).requires_grad_(true);
        using var labels = tensor(y, new long[] { N, H, W });
        using var value = loss.Compute(logits, labels);
        value.backward();
        using var grad = logits.grad!;
        return (value.item<float>(), grad.data<float>().ToArray());
    }

    /// <summary>Each loss computed by PyTorch from its paper's definition, on the same data: "name value g0 g1 ..." per line.</summary>
    private static readonly Lazy<Dictionary<string, (double Value, double[] Gradient)>> Reference = new(() =>
    {
        var (l, y) = Data();
        var folder = Directory.CreateTempSubdirectory("segsharp-rare-losses-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(folder, "logits.txt"), string.Join(' ', l.Select(v => v.ToString("R", CultureInfo.InvariantCulture))));
            File.WriteAllText(Path.Combine(folder, "labels.txt"), string.Join(' ', y));
            string script = $$"""
                import torch
                torch.set_default_dtype(torch.float64)
                N, C, H, W, IGNORE = {{N}}, {{C}}, {{H}}, {{W}}, {{Ignore}}
                x0 = torch.tensor([float(v) for v in open('logits.txt').read().split()]).reshape(N, C, H, W)
                y = torch.tensor([int(v) for v in open('labels.txt').read().split()]).reshape(N, H, W)
                valid = y != IGNORE
                ys = torch.where(valid, y, torch.zeros_like(y))

                def tversky(x, a, b, g, s):
                    p = x.softmax(1) * valid[:, None]
                    t = torch.nn.functional.one_hot(ys, C).permute(0, 3, 1, 2) * valid[:, None]
                    tp = (p * t).sum((0, 2, 3)); fp = (p * (1 - t)).sum((0, 2, 3)); fn = ((1 - p) * t).sum((0, 2, 3))
                    return ((1 - (tp + s) / (tp + a * fp + b * fn + s)) ** g).mean()

                def ohem(x, thr, min_kept, w):
                    prob = x.softmax(1).gather(1, ys[:, None])[:, 0].detach()
                    keep = valid & (prob < thr)
                    if keep.sum() < min(min_kept, valid.sum()):
                        order = torch.where(valid, prob, torch.full_like(prob, 2.0)).flatten().argsort()[:min_kept]
                        keep = torch.zeros(prob.numel(), dtype=torch.bool); keep[order] = True; keep = keep.reshape(prob.shape)
                    ce = torch.nn.functional.cross_entropy(x, ys, weight=w, reduction='none')
                    pw = (w[ys] if w is not None else torch.ones_like(ce)) * keep
                    return (ce * keep).sum() / pw.sum()

                def lovasz_grad(gt):  # Berman et al. 2018, Alg. 1: gradient of the Lovasz extension of the Jaccard loss
                    G = gt.sum()
                    jaccard = 1 - (G - gt.cumsum(0)) / (G + (1 - gt).cumsum(0))
                    jaccard[1:] = jaccard[1:] - jaccard[:-1].clone()
                    return jaccard

                def lovasz(x):
                    p = x.softmax(1); total = 0
                    for i in range(N):
                        v = valid[i].flatten(); lab = y[i].flatten()[v]; pr = p[i].reshape(C, -1)[:, v]
                        terms = []
                        for c in range(C):
                            gt = (lab == c).double()
                            if gt.sum() == 0: continue
                            err = (gt - pr[c]).abs()
                            srt, perm = torch.sort(err, descending=True)
                            terms.append(torch.dot(srt, lovasz_grad(gt[perm])))
                        total = total + sum(terms) / len(terms)
                    return total / N

                cases = {
                    'tversky': lambda x: tversky(x, 0.3, 0.7, 1.0, 1.0),
                    'focal_tversky': lambda x: tversky(x, 0.3, 0.7, 0.75, 1.0),
                    'ohem': lambda x: ohem(x, 0.5, 0, None),
                    'ohem_min_kept': lambda x: ohem(x, 0.05, 20, torch.tensor([0.5, 1.0, 1.0, 4.0])),
                    'lovasz': lovasz,
                }
                """;
            return PyTorchReference.ValuesAndGradients(folder, script);
        }
        finally
        {
            Directory.Delete(folder, true);
        }
    });

    public static TheoryData<string> Cases => new() { "tversky", "focal_tversky", "ohem", "ohem_min_kept", "lovasz" };

    private static ISegmentationLoss Loss(string name) => name switch
    {
        "tversky" => new TverskyLoss(Ignore, 0.3, 0.7, 1.0, 1.0),
        "focal_tversky" => new TverskyLoss(Ignore, 0.3, 0.7, 0.75, 1.0),
        "ohem" => new OhemCrossEntropyLoss(Ignore, 0.5),
        "ohem_min_kept" => new OhemCrossEntropyLoss(Ignore, 0.05, 20, new[] { 0.5, 1.0, 1.0, 4.0 }),
        "lovasz" => new LovaszSoftmaxLoss(Ignore),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Value_and_gradient_equal_pytorch_computing_the_papers_definition(string name)
    {
        var (value, gradient) = Ours(Loss(name));
        var (refValue, refGradient) = Reference.Value[name];
        Assert.True(refValue > 1e-3, $"{name}: the reference is {refValue}; the data tests nothing");
        Assert.Equal(refValue, value, 5);
        double maxError = gradient.Zip(refGradient, (a, b) => Math.Abs(a - b)).Max();
        Assert.True(maxError < 1e-6, $"{name}: gradient differs by {maxError:E2}");
        Assert.True(refGradient.Count(g => g != 0) > 20, $"{name}: too few pixels carry a gradient to test anything");
    }

    /// <summary>(TP + s) / (TP + (FP + FN) / 2 + s) = (2·TP + 2s) / (Σp + Σg + 2s): soft Dice with twice the smoothing.</summary>
    [Fact]
    public void Tversky_at_alpha_and_beta_one_half_is_soft_dice()
    {
        var (dice, diceGradient) = Ours(new DiceLoss(Ignore, 1.0));
        var (tversky, tverskyGradient) = Ours(new TverskyLoss(Ignore, 0.5, 0.5, 1.0, 0.5));
        Assert.Equal(dice, tversky, 6);
        Assert.True(diceGradient.Zip(tverskyGradient, (a, b) => Math.Abs(a - b)).Max() < 1e-7);
    }

    [Fact]
    public void Ohem_that_keeps_every_pixel_is_class_weighted_cross_entropy()
    {
        var weights = new[] { 0.5, 1.0, 2.0, 4.0 };
        var (ce, ceGradient) = Ours(new CrossEntropyLoss(Ignore, weights));
        var (ohem, ohemGradient) = Ours(new OhemCrossEntropyLoss(Ignore, threshold: 1.0 + 1e-6, classWeights: weights));
        Assert.Equal(ce, ohem, 6);
        Assert.True(ceGradient.Zip(ohemGradient, (a, b) => Math.Abs(a - b)).Max() < 1e-7);
    }

    [Fact]
    public void Lovasz_softmax_is_near_zero_for_a_confident_correct_prediction_and_ignored_pixels_get_no_gradient()
    {
        var (_, labels) = Data();
        var logits = new float[N * C * H * W];
        for (int n = 0; n < N; n++)
            for (int i = 0; i < H * W; i++)
                if (labels[n * H * W + i] != Ignore) logits[(n * C + labels[n * H * W + i]) * H * W + i] = 20;
        using var x = tensor(logits, new long[] { N, C, H, W }).requires_grad_(true);
        using var y = tensor(labels, new long[] { N, H, W });
        using var value = new LovaszSoftmaxLoss(Ignore).Compute(x, y);
        Assert.InRange(value.item<float>(), 0, 1e-6);
        value.backward();
        using var grad = x.grad!;
        var g = grad.data<float>().ToArray();
        for (int n = 0; n < N; n++)
            for (int i = 0; i < H * W; i++)
                if (labels[n * H * W + i] == Ignore)
                    for (int c = 0; c < C; c++) Assert.Equal(0f, g[(n * C + c) * H * W + i]);
    }
}
