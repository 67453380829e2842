using System.Globalization;
using Microsoft.ML.OnnxRuntime;
using SegSharp.Configuration;
using SegSharp.Data;
using SegSharp.Evaluation;
using SegSharp.Losses;
using SegSharp.Models;
using SegSharp.Tests.Models;
using static TorchSharp.torch;

namespace SegSharp.Tests.Losses;

/// <summary>
/// Multilabel mode on small tensors, each against an independent reference: the binary cross-entropy and sigmoid Dice
/// losses (values and gradients) against Debian's PyTorch (BCEWithLogitsLoss with a class weight; Dice written from its
/// definition), the per-class metrics against scikit-learn on indicator arrays, and the exported graph's labels against
/// SegSharp's own decision, run by ONNX Runtime.
/// </summary>
public class MultiLabelTests
{
    private const int N = 2, C = 3, H = 5, W = 6;
    private static readonly double[] ClassWeights = { 0.5, 1.0, 3.0 };

    /// <summary>Logits in [-3, 3]; labels as bits with about one pixel in eight ignored, classes overlapping freely.</summary>
    private static (float[] Logits, long[] Bits) Data()
    {
        var random = new Random(11);
        var logits = Enumerable.Range(0, N * C * H * W).Select(_ => (float)(random.NextDouble() * 6 - 3)).ToArray();
        var bits = Enumerable.Range(0, N * H * W).Select(_ => random.NextDouble() < 0.125 ? (long)LabelBits.Ignore : random.Next(0, 1 << C)).ToArray();
        return (logits, bits);
    }

    private static readonly Lazy<Dictionary<string, (double Value, double[] Gradient)>> Reference = new(() =>
    {
        var (l, y) = Data();
        string folder = TestPaths.TempFolder("multilabel-losses");
        File.WriteAllText(Path.Combine(folder, "logits.txt"), string.Join(' ', l.Select(v => v.ToString("R", CultureInfo.InvariantCulture))));
        File.WriteAllText(Path.Combine(folder, "bits.txt"), string.Join(' ', y));
        string weights = string.Join(", ", ClassWeights.Select(w => w.ToString(CultureInfo.InvariantCulture)));
        string script = $$"""
            import torch
            torch.set_default_dtype(torch.float64)
            N, C, H, W = {{N}}, {{C}}, {{H}}, {{W}}
            x0 = torch.tensor([float(v) for v in open('logits.txt').read().split()]).reshape(N, C, H, W)
            bits = torch.tensor([int(v) for v in open('bits.txt').read().split()]).reshape(N, H, W)
            valid = (bits != -1)
            truth = torch.stack([((bits >> c) & 1).bool() & valid for c in range(C)], 1).double()
            keep = valid.unsqueeze(1).expand(N, C, H, W)
            def bce(x, weight):
                w = torch.ones(C) if weight is None else torch.tensor(weight)
                w = w.view(1, C, 1, 1).expand(N, C, H, W)[keep]
                return torch.nn.BCEWithLogitsLoss(weight=w, reduction='sum')(x[keep], truth[keep]) / w.sum()
            def dice(x, smooth):
                p = torch.sigmoid(x) * keep
                inter = (p * truth).sum((0, 2, 3)); card = p.sum((0, 2, 3)) + truth.sum((0, 2, 3))
                return 1 - ((2 * inter + smooth) / (card + smooth)).mean()
            cases = {'bce': lambda x: bce(x, None), 'bce_weighted': lambda x: bce(x, [{{weights}}]), 'dice': lambda x: dice(x, 1.0)}
            """;
        return PyTorchReference.ValuesAndGradients(folder, script);
    });

    [Theory]
    [InlineData("bce")]
    [InlineData("bce_weighted")]
    [InlineData("dice")]
    public void Losses_and_gradients_equal_pytorch(string name)
    {
        ISegmentationLoss loss = name switch
        {
            "bce" => WeightedLoss.MultiLabel(new CrossEntropySpec()),
            "bce_weighted" => WeightedLoss.MultiLabel(new CrossEntropySpec(ClassWeights: ClassWeights)),
            _ => WeightedLoss.MultiLabel(new DiceSpec(Smooth: 1.0)),
        };
        var (l, y) = Data();
        using var logits = tensor(l, new long[] { N, C, H, W }).requires_grad_(true);
        using var bits = tensor(y, new long[] { N, H, W });
        using var value = loss.Compute(logits, bits);
        value.backward();
        using var grad = logits.grad!;
        var gradient = grad.data<float>().ToArray();
        var (expected, expectedGradient) = Reference.Value[name];
        Assert.Equal(expected, value.item<float>(), 5);
        Assert.Equal(expectedGradient.Length, gradient.Length);
        for (int i = 0; i < gradient.Length; i++)
            Assert.True(Math.Abs(gradient[i] - expectedGradient[i]) < 1e-6, $"gradient {i}: {gradient[i]} vs {expectedGradient[i]}");
        // Ignored pixels get no gradient at all.
        for (int n = 0; n < N; n++)
            for (int p = 0; p < H * W; p++)
                if (y[n * H * W + p] == LabelBits.Ignore)
                    for (int c = 0; c < C; c++) Assert.Equal(0f, gradient[(n * C + c) * H * W + p]);
    }

    [Fact]
    public void Terms_defined_for_one_class_per_pixel_are_refused_naming_the_ones_that_work()
    {
        var error = Assert.Throws<SegSharpException>(() => WeightedLoss.MultiLabel(new LovaszSoftmaxSpec()));
        Assert.Equal("loss term lovasz_softmax is defined for one class per pixel; with task: multilabel use cross_entropy (a sigmoid per class, " +
            "class_weights allowed) and dice.", error.Message);
        error = Assert.Throws<SegSharpException>(() => WeightedLoss.MultiLabel(new CrossEntropySpec(LabelSmoothing: 0.1)));
        Assert.StartsWith("loss term cross_entropy with label_smoothing or border_weight is defined for one class per pixel", error.Message);
    }

    /// <summary>Per-class IoU (Jaccard), Dice (F1), precision and recall, and their means, equal scikit-learn's on the labelled pixels.</summary>
    [Fact]
    public void Per_class_metrics_equal_scikit_learn_on_indicator_arrays()
    {
        Prerequisite.PythonModules("python3-sklearn", "sklearn");
        var random = new Random(5);
        const int pixels = 400, classes = 4;
        var truth = Enumerable.Range(0, pixels).Select(_ => random.NextDouble() < 0.1 ? LabelBits.Ignore : random.Next(0, 1 << (classes - 1))).ToArray();
        // Predictions mostly right, with flips; class 3 never occurs in truth and is predicted once (IoU 0, recall undefined).
        int marked = Array.FindIndex(truth, t => t != LabelBits.Ignore);
        var predicted = truth.Select((t, i) => (t == LabelBits.Ignore ? random.Next(0, 8) : t ^ (random.NextDouble() < 0.3 ? 1 << random.Next(0, 3) : 0))
            | (i == marked ? 8 : 0)).ToArray();
        using var counts = new LabelCounts(classes);
        counts.Add(tensor(predicted.Select(v => (long)v).ToArray(), new long[] { 1, 20, 20 }), tensor(truth.Select(v => (long)v).ToArray(),
            new long[] { 1, 20, 20 }));
        var m = counts.Metrics(new[] { "a", "b", "c", "d" });

        string folder = TestPaths.TempFolder("multilabel-metrics");
        File.WriteAllText(Path.Combine(folder, "t.txt"), string.Join(' ', truth));
        File.WriteAllText(Path.Combine(folder, "p.txt"), string.Join(' ', predicted));
        string script = $$"""
            import numpy as np, warnings
            from sklearn.metrics import jaccard_score, f1_score, precision_score, recall_score
            warnings.filterwarnings('ignore')
            t = np.array([int(v) for v in open('t.txt').read().split()]); p = np.array([int(v) for v in open('p.txt').read().split()])
            keep = t != -1
            T = np.stack([(t[keep] >> c) & 1 for c in range({{classes}})], 1); P = np.stack([(p[keep] >> c) & 1 for c in range({{classes}})], 1)
            for f in (jaccard_score, f1_score, precision_score, recall_score):
                print(' '.join(repr(float(v)) for v in f(T, P, average=None, zero_division=0)))
            print(repr(float((T == P).mean())), int(keep.sum()))
            """;
        var lines = ChildProcess.Run(Prerequisite.Python, folder, null, "-c", script).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        double[] Row(int i) => lines[i].Split(' ').Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
        var (iou, dice, precision, recall) = (Row(0), Row(1), Row(2), Row(3));
        for (int c = 0; c < 3; c++)
        {
            Assert.Equal(iou[c], m.PerClass[c].IoU!.Value, 12);
            Assert.Equal(dice[c], m.PerClass[c].Dice!.Value, 12);
            Assert.Equal(precision[c], m.PerClass[c].Precision!.Value, 12);
            Assert.Equal(recall[c], m.PerClass[c].Recall!.Value, 12);
        }
        Assert.Equal((0.0, (double?)null), (m.PerClass[3].IoU!.Value, m.PerClass[3].Recall));
        Assert.Equal(iou.Average(), m.MeanIoU, 12);
        Assert.Equal(dice.Average(), m.MeanDice, 12);
        Assert.Equal(precision.Average(), m.MeanPrecision, 12);        // class 3's precision is 0 (predicted, never present)
        Assert.Equal(recall.Take(3).Average(), m.MeanClassAccuracy, 12);   // its recall is undefined and left out
        Assert.Equal(Row(4)[0], m.PixelAccuracy, 12);
        Assert.Equal((long)Row(4)[1], m.Pixels);
        Assert.True(m.MultiLabel);
        Assert.Equal(m.Pixels, m.PerClass[0].TruePositives + m.PerClass[0].FalsePositives + m.PerClass[0].FalseNegatives + m.PerClass[0].TrueNegatives);
    }

    /// <summary>The exported graph's 'labels' output equals <see cref="ClassDecision.LabelsOfLogits"/> of the same logits, for 30 classes too.</summary>
    [Theory]
    [InlineData(3)]
    [InlineData(30)]
    public void Exported_labels_are_the_bits_of_the_classes_over_the_threshold(int classes)
    {
        string[] settings = { "model.name=unet", "model.depth=2", "model.width=4", "evaluation.threshold=0.3" };
        using var model = OnnxExportTests.Build(settings, classes);
        var card = OnnxExportTests.Card(model, settings) with { Task = SegmentationTask.Multilabel, Threshold = 0.3 };
        var file = OnnxExport.Build(model, card, "{}");
        var metadata = file.MetadataProps.ToDictionary(p => p.Key, p => p.Value);
        Assert.Equal(("multilabel", "0.3"), (metadata[OnnxExport.MetadataKeys.Task], metadata[OnnxExport.MetadataKeys.Threshold]));
        using var session = new InferenceSession(Google.Protobuf.MessageExtensions.ToByteArray(file));
        using var scope = NewDisposeScope();
        using var generator = new Generator(0);
        generator.manual_seed(4);
        var images = rand(new long[] { 2, 3, 24, 20 }, generator: generator) * 2;
        var pixels = images.data<float>().ToArray();
        using var input = OrtValue.CreateTensorValueFromMemory(pixels, new long[] { 2, 3, 24, 20 });
        using var runOptions = new RunOptions();
        using var results = session.Run(runOptions, new[] { "image" }, new[] { input }, new[] { "logits", "labels" });
        var logits = tensor(results[0].GetTensorDataAsSpan<float>().ToArray(), new long[] { 2, classes, 24, 20 });
        var labels = results[1].GetTensorDataAsSpan<long>().ToArray();
        var expected = card.Decision.LabelsOfLogits(logits).data<long>().ToArray();
        Assert.Equal(expected, labels);
        Assert.Contains(labels, v => v != 0 && (v & (v - 1)) != 0);   // some pixels hold several classes
        // The same decision on plain arrays (ONNX Runtime prediction path).
        var first = card.Decision.Probabilities(logits[0].data<float>().ToArray(), classes, 24 * 20);
        Assert.Equal(expected.Take(24 * 20).Select(v => (int)v), card.Decision.Labels(first, classes, 24 * 20));
    }
}
