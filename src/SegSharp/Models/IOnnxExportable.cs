namespace SegSharp.Models;

/// <summary>
/// A SegSharp module that writes its own forward pass as ONNX nodes, next to its <c>forward</c>, so the two are
/// read (and changed) together; the ONNX Runtime parity tests hold them equal.
/// </summary>
internal interface IOnnxExportable
{
    /// <summary>Adds this module's nodes applied to the value <paramref name="input"/>; returns the output value's name.</summary>
    string AddTo(OnnxGraph graph, string input);
}
