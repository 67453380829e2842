using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using SegSharp.Models;

namespace SegSharp.Inference;

/// <summary>
/// Calibration for INT8 quantisation: the float model, with the activations to quantise added as outputs, run by ONNX
/// Runtime over calibration images; each activation's range is the lowest and highest value seen over all of them
/// (min/max calibration, ONNX Runtime's own default).
/// </summary>
internal sealed class ActivationCalibration : IDisposable
{
    private readonly InferenceSession _session;
    private readonly string[] _names;
    private readonly Dictionary<string, (float Min, float Max)> _ranges = new(StringComparer.Ordinal);
    private readonly int _channels;

    public ActivationCalibration(OnnxQuantization.Plan plan, int channels, int threads = 0)
    {
        _names = plan.Activations.ToArray();
        _channels = channels;
        using var options = new SessionOptions { IntraOpNumThreads = threads, ExecutionMode = ExecutionMode.ORT_SEQUENTIAL };
        options.LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR;
        // Basic optimisations only: fusions would hide the tensors being measured.
        options.GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_BASIC;
        _session = new InferenceSession(OnnxQuantization.WithOutputs(plan.Float, _names).ToByteArray(), options);
    }

    /// <summary>Images run so far.</summary>
    public int Images { get; private set; }

    /// <summary>Each activation's (lowest, highest) value over the images run so far.</summary>
    public IReadOnlyDictionary<string, (float Min, float Max)> Ranges => _ranges;

    /// <param name="image">One preprocessed image [channels, height, width].</param>
    public void Add(float[] image, int height, int width)
    {
        using var input = OrtValue.CreateTensorValueFromMemory(image, new long[] { 1, _channels, height, width });
        using var run = new RunOptions();
        using var results = _session.Run(run, new[] { "image" }, new[] { input }, _names);
        for (int i = 0; i < _names.Length; i++)
        {
            var values = results[i].GetTensorDataAsSpan<float>();
            float min = float.PositiveInfinity, max = float.NegativeInfinity;
            foreach (float v in values)
            {
                if (v < min) min = v;
                if (v > max) max = v;
            }
            _ranges[_names[i]] = _ranges.TryGetValue(_names[i], out var seen) ? (Math.Min(seen.Min, min), Math.Max(seen.Max, max)) : (min, max);
        }
        Images++;
    }

    public void Dispose() => _session.Dispose();
}
