using Xunit.Abstractions;

namespace SegSharp.Tests.Models;

/// <summary>third_party/onnx/onnx.proto is ONNX's own schema, byte for byte the copy Debian's python3-onnx ships.</summary>
public class OnnxSchemaTests(ITestOutputHelper output)
{
    private const string Debian = "/usr/lib/python3/dist-packages/onnx/onnx.proto";

    [Fact]
    public void The_vendored_schema_is_debians_onnx_proto_unmodified()
    {
        string vendored = Path.Combine(TestPaths.RepositoryRoot, "third_party", "onnx", "onnx.proto");
        Assert.Contains("IR_VERSION = 0x0000000000000008;", File.ReadAllText(vendored));
        if (!File.Exists(Debian))
        {
            Assert.True(Environment.GetEnvironmentVariable("CI") is null or "" or "false", "CI must have python3-onnx");
            output.WriteLine($"skipped: {Debian} is missing (apt-get install python3-onnx)");
            return;
        }
        Assert.Equal(File.ReadAllBytes(Debian), File.ReadAllBytes(vendored));
    }
}
