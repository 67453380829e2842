// Using a model from `segsharp export --format onnx` in your own application: only the
// Microsoft.ML.OnnxRuntime package is needed, no SegSharp, no libtorch. (Compiled and run by SegSharp's tests.)
using System.Text.Json;
using Microsoft.ML.OnnxRuntime;

namespace MyApp;

public sealed class OnnxSegmenter : IDisposable
{
    private readonly InferenceSession _session;
    private readonly float[] _mean, _std;

    public OnnxSegmenter(string modelPath)
    {
        _session = new InferenceSession(modelPath);
        var metadata = _session.ModelMetadata.CustomMetadataMap;
        // The class names and the normalisation travel inside the file.
        ClassNames = JsonSerializer.Deserialize<string[]>(metadata["segsharp.classes"])!;
        using var normalize = JsonDocument.Parse(metadata["segsharp.normalize"]);
        _mean = Values(normalize.RootElement, "mean", 0f);
        _std = Values(normalize.RootElement, "std", 1f);
    }

    public string[] ClassNames { get; }

    /// <param name="pixels">The image as [channels, height, width] planes with values 0..1 (RGB, or one gray plane).</param>
    /// <returns>The class index of every pixel, [height, width].</returns>
    public long[] Segment(float[] pixels, int channels, int height, int width)
    {
        var input = new float[pixels.Length];
        int plane = height * width;
        for (int c = 0; c < channels; c++)
        {
            float mean = _mean[Math.Min(c, _mean.Length - 1)], std = _std[Math.Min(c, _std.Length - 1)];
            for (int i = 0; i < plane; i++) input[c * plane + i] = (pixels[c * plane + i] - mean) / std;
        }
        // Any height and width: the graph pads to the model's stride and crops back itself.
        using var image = OrtValue.CreateTensorValueFromMemory(input, new long[] { 1, channels, height, width });
        using var options = new RunOptions();
        using var outputs = _session.Run(options, new[] { "image" }, new[] { image }, new[] { "labels" });
        return outputs[0].GetTensorDataAsSpan<long>().ToArray();
    }

    private static float[] Values(JsonElement root, string name, float absent) =>
        root.TryGetProperty(name, out var values) ? values.EnumerateArray().Select(v => v.GetSingle()).ToArray() : new[] { absent };

    public void Dispose() => _session.Dispose();
}
