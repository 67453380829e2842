using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;
using SegSharp.Models;
using TorchSharp.PyBridge;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace SegSharp.Tests.Models;

/// <summary>
/// The exported files seen by other frameworks: ONNX's own checker (python3-onnx, full check with shape inference)
/// accepts every exported architecture, and a U-Net exported as a PyTorch state dict, loaded into a plain PyTorch
/// definition (scripts/onnx_crosscheck.py), gives the logits ONNX Runtime and TorchSharp give. CI installs
/// python3-onnx and python3-torch; elsewhere the tests say they skipped when these are absent.
/// </summary>
[Trait("Tier", "Reference")]
public class OnnxCrossFrameworkTests(ITestOutputHelper output)
{
    [Fact]
    public void Onnx_checker_accepts_every_exported_architecture()
    {
        string folder = TestPaths.TempFolder("onnx-check");
        var files = new List<string>();
        foreach (var settings in OnnxExportTests.ArchitectureSettings)
        {
            using var model = OnnxExportTests.Build(settings.Append("model.width=8").Append("model.depth=2").ToArray(), classes: 3);
            string path = Path.Combine(folder, $"model{files.Count}.onnx");
            OnnxExport.Write(model, OnnxExportTests.Card(model, settings), "{}", path);
            files.Add(path);
        }
        if (Python(new[] { "check" }.Concat(files)) is not { } report) return;
        Assert.Equal(files.Count, report.Split('\n').Count(line => line.Contains(": ok (IR 8, opset 17", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData("batch", "transpose")]
    [InlineData("group", "bilinear")]
    public void A_unet_exported_to_pytorch_and_onnx_gives_the_same_logits_in_pytorch_onnx_runtime_and_torchsharp(string norm, string upsampling)
    {
        string folder = TestPaths.TempFolder("unet-pytorch");
        using var model = OnnxExportTests.Build(new[] { "model.name=unet", "model.depth=3", "model.width=8", $"model.norm={norm}",
            $"model.upsampling={upsampling}" }, classes: 4);
        string weights = Path.Combine(folder, "unet.pt"), onnx = Path.Combine(folder, "unet.onnx");
        WeightFiles.Write(model, weights, WeightFileFormat.PyTorch);
        OnnxExport.Write(model, OnnxExportTests.Card(model, Array.Empty<string>()), "{}", onnx);
        using var images = OnnxExportTests.Random(2, 3, 45, 38, seed: 11);
        using (var stream = File.Create(Path.Combine(folder, "input.pt")))
            PyTorchPickler.PickleStateDict(stream, new Dictionary<string, Tensor> { ["input"] = images });
        if (Python(new[] { "unet", weights, Path.Combine(folder, "input.pt"), Path.Combine(folder, "logits.pt"), "3", "4", "3", "8", norm, upsampling })
            is null) return;

        using var pytorch = WeightFiles.Read(Path.Combine(folder, "logits.pt"))["logits"];
        using var torchSharp = OnnxExportTests.Forward(model, images);
        using var session = new InferenceSession(onnx);
        using var onnxRuntime = OnnxExportTests.Run(session, images);
        double toTorchSharp = (pytorch - torchSharp).abs().max().item<float>(), toOnnx = (pytorch - onnxRuntime).abs().max().item<float>();
        output.WriteLine($"{norm}/{upsampling}: PyTorch vs TorchSharp {toTorchSharp:E2}, PyTorch vs ONNX Runtime {toOnnx:E2}, logits' std " +
            $"{pytorch.std().item<float>():F3}");
        Assert.Equal(new long[] { 2, 4, 45, 38 }, pytorch.shape);
        Assert.True(toTorchSharp <= 1e-4, $"PyTorch and TorchSharp differ by {toTorchSharp}");
        Assert.True(toOnnx <= 1e-4, $"PyTorch and ONNX Runtime differ by {toOnnx}");
    }

    /// <returns>The script's standard output (Debian's python3-onnx and python3-torch, which ./test.sh installs).</returns>
    private string Python(IEnumerable<string> arguments)
    {
        Prerequisite.PythonModules("python3-onnx python3-torch", "onnx", "torch");
        string stdout = ChildProcess.Run(Prerequisite.Python, TestPaths.RepositoryRoot, null,
            arguments.Prepend(Path.Combine(TestPaths.RepositoryRoot, "scripts", "onnx_crosscheck.py")).ToArray());
        output.WriteLine(stdout);
        return stdout;
    }
}
