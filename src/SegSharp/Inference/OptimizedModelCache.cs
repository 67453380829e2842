using Microsoft.ML.OnnxRuntime;

namespace SegSharp.Inference;

/// <summary>
/// ONNX Runtime's graph optimisations (constant folding, node fusions, layouts chosen for this CPU) done once and kept next
/// to the model as <c>MODEL.onnx.&lt;key&gt;.optimized.onnx</c>. The key is the model file's content hash, the ONNX Runtime
/// version, the optimisation level and a hash of the CPU's feature flags, since an optimised graph may use kernels only this CPU and this runtime
/// have: a change of any of them builds a new file (and removes the stale ones). The file is written under a temporary name
/// and renamed, so a reader never sees half of it; where the model's folder is not writable there is no cache.
/// </summary>
public static class OptimizedModelCache
{
    public const string Suffix = ".optimized.onnx";

    /// <summary>The cache file for <paramref name="model"/> optimised at <paramref name="level"/> on this machine and runtime.</summary>
    public static string PathFor(string model, Configuration.GraphOptimization level)
    {
        using var stream = File.OpenRead(model);
        string content = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(stream))[..16].ToLowerInvariant();
        string cpu = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(
            string.Join(' ', Runtime.CpuInfo.Flags.Order(StringComparer.Ordinal)))))[..8].ToLowerInvariant();
        return $"{model}.{content}-ort{OrtEnv.Instance().GetVersionString()}-{Foundation.OptionNames<Configuration.GraphOptimization>.Name(level)}" +
            $"-cpu{cpu}{Suffix}";
    }

    /// <summary>
    /// A session on <paramref name="model"/>: from its cache file when there is one (no optimisation left to do), else from
    /// the model with its optimised graph saved as the cache file. <paramref name="open"/> creates a session (and names a
    /// broken file in its error).
    /// </summary>
    /// <returns>The session and the cache file it came from or wrote (null without a cache).</returns>
    public static (InferenceSession Session, string? CacheFile, bool Hit) Open(string model, SessionOptions options,
        Func<string, SessionOptions, InferenceSession> open, Configuration.GraphOptimization level)
    {
        string cache = PathFor(model, level);
        var optimise = options.GraphOptimizationLevel;
        if (File.Exists(cache))
        {
            options.GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL;
            try
            {
                return (open(cache, options), cache, true);
            }
            catch (SegSharpException)
            {
                // A damaged cache file is only a cache: remove it and optimise again from the model.
                TryDelete(cache);
                options.GraphOptimizationLevel = optimise;
            }
        }
        string temporary = cache + ".tmp";
        if (!Writable(Path.GetDirectoryName(Path.GetFullPath(model))!)) return (open(model, options), null, false);
        options.OptimizedModelFilePath = temporary;
        var session = open(model, options);
        try
        {
            File.Move(temporary, cache, overwrite: true);
            foreach (string stale in Directory.GetFiles(Path.GetDirectoryName(Path.GetFullPath(model))!, Path.GetFileName(model) + ".*" + Suffix))
                if (stale != cache) TryDelete(stale);
            return (session, cache, false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(temporary);
            return (session, null, false);
        }
    }

    private static bool Writable(string folder)
    {
        try
        {
            string probe = Path.Combine(folder, $".segsharp-write-probe-{Environment.ProcessId}");
            File.WriteAllBytes(probe, Array.Empty<byte>());
            File.Delete(probe);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }
}
