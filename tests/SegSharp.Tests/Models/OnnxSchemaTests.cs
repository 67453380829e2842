namespace SegSharp.Tests.Models;

/// <summary>third_party/onnx/onnx.proto is ONNX's own schema, byte for byte the copy Debian's python3-onnx ships.</summary>
public class OnnxSchemaTests
{
    private const string Debian = "/usr/lib/python3/dist-packages/onnx/onnx.proto";

    [Fact]
    public void The_vendored_schema_is_debians_onnx_proto_unmodified()
    {
        string vendored = Path.Combine(TestPaths.RepositoryRoot, "third_party", "onnx", "onnx.proto");
        Assert.Contains("IR_VERSION = 0x0000000000000008;", File.ReadAllText(vendored));
        Prerequisite.File(Debian, "python3-onnx");
        Assert.Equal(File.ReadAllBytes(Debian), File.ReadAllBytes(vendored));
    }
}
