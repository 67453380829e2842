using static TorchSharp.torch;

namespace SegSharp.Benchmarks;

/// <summary>
/// Which convolution kernels oneDNN picks on this CPU: a child process runs a 3x3 convolution forward and backward with
/// <c>ONEDNN_VERBOSE=1</c>, and the log's instruction-set line and implementation names (e.g. <c>brg_conv_fwd:avx512_core</c>,
/// <c>jit:avx2</c>) are summarised.
/// </summary>
public static class OneDnnKernels
{
    public const string Section = "kernels";

    /// <summary>The summary, e.g. "oneDNN v3.7.1, isa Intel AVX2; float32 convolution forward_training jit:avx2, backward_data jit:avx2, ...".</summary>
    public static string Probe(int threads)
    {
        var (exitCode, output) = ChildSection.RunForOutput(Section, threads, quick: false, new Dictionary<string, string> { ["ONEDNN_VERBOSE"] = "1" });
        return exitCode == 0 ? Summarise(output) : $"oneDNN kernels unknown (the probe exited with {exitCode})";
    }

    /// <summary>In the child: one float32 3x3 convolution (64 -> 64 channels, 2 x 32x32) forward and backward.</summary>
    public static void RunChild()
    {
        random.manual_seed(1);
        using var scope = NewDisposeScope();
        var input = randn(2, 64, 32, 32).requires_grad_(true);
        var weight = randn(64, 64, 3, 3).requires_grad_(true);
        nn.functional.conv2d(input, weight, padding: new long[] { 1, 1 }).sum().backward();
        ChildSection.Report(0);
    }

    /// <summary>The version, instruction-set line and, per propagation kind, the convolution implementations in a verbose log.</summary>
    public static string Summarise(string log)
    {
        string version = "", isa = "";
        var kernels = new SortedDictionary<string, SortedSet<string>>(StringComparer.Ordinal);
        foreach (string line in log.Split('\n'))
        {
            if (!line.StartsWith("onednn_verbose", StringComparison.Ordinal)) continue;
            var fields = line.Split(',');
            int info = Array.IndexOf(fields, "info");
            if (info >= 0 && info + 1 < fields.Length && fields[info + 1].StartsWith("oneDNN v", StringComparison.Ordinal))
                version = fields[info + 1].Split(' ')[1];
            if (info >= 0 && info + 2 < fields.Length && fields[info + 1] == "cpu" && fields[info + 2].StartsWith("isa:", StringComparison.Ordinal))
                isa = fields[info + 2]["isa:".Length..];
            int convolution = Array.IndexOf(fields, "convolution");
            if (Array.IndexOf(fields, "exec") >= 0 && convolution >= 0 && convolution + 2 < fields.Length)
            {
                string propagation = fields[convolution + 2];
                if (!kernels.TryGetValue(propagation, out var names)) kernels[propagation] = names = new SortedSet<string>(StringComparer.Ordinal);
                names.Add(fields[convolution + 1]);
            }
        }
        if (version.Length == 0 && kernels.Count == 0) return "oneDNN kernels unknown (no verbose log)";
        return $"oneDNN {version}, isa {isa}; float32 convolution " +
            string.Join(", ", kernels.Select(k => $"{k.Key} {string.Join("/", k.Value)}"));
    }
}
