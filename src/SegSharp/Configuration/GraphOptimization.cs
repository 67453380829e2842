using SegSharp.Foundation;

namespace SegSharp.Configuration;

/// <summary>
/// <c>predict --graph-optimization</c>: how much ONNX Runtime rewrites the graph before running it: all (layouts chosen for
/// this CPU, the default), extended (node fusions), basic (constant folding, redundant nodes removed) or none.
/// </summary>
public enum GraphOptimization
{
    [OptionName("all")] All,
    [OptionName("extended")] Extended,
    [OptionName("basic")] Basic,
    [OptionName("none")] None,
}
