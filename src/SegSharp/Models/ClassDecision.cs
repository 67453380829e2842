using SegSharp.Data;
using static TorchSharp.torch;

namespace SegSharp.Models;

/// <summary>
/// How logits become probabilities and labels, one place for training's validation, evaluation, prediction (libtorch and
/// ONNX Runtime) and the exported graph. Multiclass: softmax over classes, the label is the argmax. Multilabel: a sigmoid
/// per class, the label is <see cref="LabelBits"/> of the classes whose probability exceeds <see cref="Threshold"/>.
/// </summary>
public sealed record ClassDecision(SegmentationTask Task, double Threshold)
{
    public static ClassDecision Multiclass { get; } = new(SegmentationTask.Multiclass, 0.5);

    public bool MultiLabel => Task == SegmentationTask.Multilabel;

    /// <summary>[N, C, H, W] probabilities from logits.</summary>
    public Tensor Probabilities(Tensor logits) => MultiLabel ? logits.sigmoid() : logits.softmax(1);

    /// <summary>
    /// Logits whose probabilities are <paramref name="probabilities"/> (averaged over tiles or flips): log p for softmax,
    /// log p − log(1 − p) for sigmoids, so losses and decisions can take them as a model's output.
    /// </summary>
    public Tensor Logits(Tensor probabilities)
    {
        using var scope = NewDisposeScope();
        var p = probabilities.clamp(1e-12, MultiLabel ? 1 - 1e-7 : 1);
        return (MultiLabel ? p.log() - (1 - p).log() : p.log()).MoveToOuterDisposeScope();
    }

    /// <summary>[N, H, W] int64 labels from [N, C, H, W] probabilities.</summary>
    public Tensor Labels(Tensor probabilities)
    {
        if (!MultiLabel) return probabilities.argmax(1);
        using var scope = NewDisposeScope();
        long classes = probabilities.shape[1];
        var bits = tensor(Enumerable.Range(0, (int)classes).Select(c => 1L << c).ToArray(), new long[] { 1, classes, 1, 1 }, device: probabilities.device);
        return (probabilities.gt(Threshold).to(ScalarType.Int64) * bits).sum(1).MoveToOuterDisposeScope();
    }

    /// <summary>[N, H, W] int64 labels straight from logits (the argmax of the logits themselves for multiclass).</summary>
    public Tensor LabelsOfLogits(Tensor logits)
    {
        if (!MultiLabel) return logits.argmax(1);
        using var scope = NewDisposeScope();
        return Labels(logits.sigmoid()).MoveToOuterDisposeScope();
    }

    /// <summary>Probabilities of [classes, plane] logits, in place.</summary>
    public float[] Probabilities(float[] logits, int classes, int plane)
    {
        Probabilities(logits.AsSpan(), classes, plane);
        return logits;
    }

    /// <summary>Probabilities of [classes, plane] logits, in place.</summary>
    public void Probabilities(Span<float> logits, int classes, int plane)
    {
        if (MultiLabel)
        {
            for (int i = 0; i < classes * plane; i++) logits[i] = 1f / (1f + MathF.Exp(-logits[i]));
            return;
        }
        for (int i = 0; i < plane; i++)
        {
            float max = float.NegativeInfinity;
            for (int c = 0; c < classes; c++) max = Math.Max(max, logits[c * plane + i]);
            float total = 0;
            for (int c = 0; c < classes; c++) total += logits[c * plane + i] = MathF.Exp(logits[c * plane + i] - max);
            for (int c = 0; c < classes; c++) logits[c * plane + i] /= total;
        }
    }

    /// <summary>Labels of [classes, plane] probabilities, [plane].</summary>
    public int[] Labels(float[] probabilities, int classes, int plane)
    {
        var labels = new int[plane];
        Labels(probabilities, classes, plane, labels);
        return labels;
    }

    /// <summary>Labels of [classes, plane] probabilities into <paramref name="labels"/> [plane].</summary>
    public void Labels(ReadOnlySpan<float> probabilities, int classes, int plane, Span<int> labels)
    {
        for (int i = 0; i < plane; i++)
        {
            if (MultiLabel)
            {
                int bits = 0;
                for (int c = 0; c < classes; c++) if (probabilities[c * plane + i] > Threshold) bits |= 1 << c;
                labels[i] = bits;
                continue;
            }
            int best = 0;
            for (int c = 1; c < classes; c++) if (probabilities[c * plane + i] > probabilities[best * plane + i]) best = c;
            labels[i] = best;
        }
    }

    /// <summary>The graph's int64 'labels' from its logits: ArgMax, or the bits of Sigmoid(logits) &gt; threshold.</summary>
    internal string AddLabels(OnnxGraph graph, string logits, long classes)
    {
        if (!MultiLabel) return graph.Node("ArgMax", new[] { logits }, OnnxGraph.Attribute("axis", 1), OnnxGraph.Attribute("keepdims", 0));
        string above = graph.Node("Greater", new[] { graph.Node("Sigmoid", new[] { logits }), graph.Constant(new[] { (float)Threshold }, 1) });
        string ones = graph.Node("Cast", new[] { above }, OnnxGraph.Attribute("to", (long)Onnx.TensorProto.Types.DataType.Int64));
        var powers = Enumerable.Range(0, (int)classes).Select(c => 1L << c).ToArray();
        string bits = graph.Node("Mul", new[] { ones, graph.Int64Constant(powers, 1, classes, 1, 1) });
        return graph.Node("ReduceSum", new[] { bits, graph.Int64Constant(new[] { 1L }, 1) }, OnnxGraph.Attribute("keepdims", 0));
    }
}
