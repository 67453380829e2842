using System.Diagnostics;
using Google.Protobuf;
using Onnx;
using SegSharp.Configuration;
using SegSharp.Inference;
using SegSharp.Models;
using SegSharp.Tests.Cli;
using SegSharp.Tests.Models;
using SegSharp.Training;

namespace SegSharp.Tests.Inference;

/// <summary>
/// Model files edited by hand or by a deployment tool: a checkpoint whose card asks for a network too big to build,
/// ONNX files with a fixed input size, another channel or class count, or malformed metadata. Each is one line, exit 2,
/// before anything large is allocated.
/// </summary>
[Collection("training")]
public sealed class HostileModelFileTests
{
    private static readonly Lazy<string> Checkpoint = new(() =>
    {
        string run = TestPaths.TempFolder("hostile-card");
        Training.TinyRun.Train(run);
        return Path.Combine(run, "checkpoints", "last.ckpt");
    });

    [Theory]
    [InlineData("width", 4096)]
    [InlineData("depth", 60)]
    [InlineData("channels", 100000)]
    [InlineData("classes", 0)]
    [InlineData("stride", 3)]
    public void A_checkpoint_whose_card_is_out_of_range_is_refused_before_anything_is_built(string field, int value)
    {
        var contents = SegSharp.Training.Checkpoint.Parse(File.ReadAllBytes(Checkpoint.Value));
        var card = contents.Card!;
        card = field switch
        {
            "width" => card with { Model = card.Model with { Width = value } },
            "depth" => card with { Model = card.Model with { Depth = value } },
            "channels" => card with { InputChannels = value },
            "classes" => card with { Classes = card.Classes.Take(value).ToList() },
            _ => card with { Stride = value },
        };
        string file = Edited(card, contents);
        foreach (var command in new[] { new[] { "predict", "--checkpoint", file, "--input", TestPaths.Isbi + "/image/0.png", "--output",
                     TestPaths.TempFolder("out") }, new[] { "export", "--checkpoint", file, "--format", "onnx", "--output", file + ".onnx" },
                     new[] { "evaluate", "--checkpoint", file, "--data", TestPaths.IsbiDescription, "--output", TestPaths.TempFolder("eval") + "/r" } })
        {
            var clock = Stopwatch.StartNew();
            var (code, stdout, error) = CliProcess.Run(command);
            Assert.True(code == 2, $"{command[0]}: exit {code}\n{stdout}\n{error}");
            string line = Assert.Single(error.Trim().Split('\n'));
            Assert.Contains($"'{file}'", line, StringComparison.Ordinal);
            Assert.Contains("damaged or was edited", line, StringComparison.Ordinal);
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"{command[0]} took {clock.Elapsed}");
        }
    }

    [Fact]
    public void A_card_in_range_whose_network_would_not_fit_in_memory_is_refused_with_the_keys_to_change()
    {
        var contents = SegSharp.Training.Checkpoint.Parse(File.ReadAllBytes(Checkpoint.Value));
        string file = Edited(contents.Card! with { Model = contents.Card!.Model with { Width = 1024, Depth = 7 } }, contents);
        var (code, stdout, error) = CliProcess.Run(new[] { "export", "--checkpoint", file, "--format", "onnx", "--output", file + ".onnx" });
        Assert.True(code == 2, $"exit {code}\n{stdout}\n{error}");
        string line = Assert.Single(error.Trim().Split('\n'));
        Assert.Contains("model.width 1024 with model.depth 7", line, StringComparison.Ordinal);
        Assert.Contains("Lower model.width or model.depth", line, StringComparison.Ordinal);
    }

    [Fact]
    public void The_U_Net_parameter_count_is_known_before_the_network_is_built()
    {
        foreach (var (norm, upsampling) in new[] { (NormKind.Batch, UpsamplingKind.Transpose), (NormKind.None, UpsamplingKind.Bilinear),
                     (NormKind.Group, UpsamplingKind.Transpose) })
        {
            using var model = new UNet(3, 5, 3, 8, norm, upsampling);
            Assert.Equal(model.parameters().Sum(p => p.numel()), (long)UNet.ParameterCount(3, 5, 3, 8, norm, upsampling));
        }
        Assert.Equal(7_763_074, UNet.ParameterCount(3, 2, 4, 32, NormKind.Batch, UpsamplingKind.Transpose));
    }

    [Theory]
    [InlineData("fixed size")]
    [InlineData("channels")]
    [InlineData("classes")]
    [InlineData("card json")]
    [InlineData("card range")]
    public void An_ONNX_file_edited_for_deployment_is_refused_naming_the_mismatch(string edit)
    {
        using var model = new UNet(1, 2, 2, 4);
        var card = OnnxExportTests.Card(model, new[] { "model.depth=2", "model.width=4" }) with { InputChannels = 1 };
        string evaluation = System.Text.Json.JsonSerializer.Serialize(SegSharpConfig.Load(null, Array.Empty<string>()).Evaluation,
            SegSharp.Foundation.JsonFormats.Compact);
        var proto = OnnxExport.Build(model, card, evaluation);
        var image = proto.Graph.Input.Single(i => i.Name == "image").Type.TensorType.Shape.Dim;
        var logits = proto.Graph.Output.Single(o => o.Name == "logits").Type.TensorType.Shape.Dim;
        var metadata = proto.MetadataProps.Single(p => p.Key == OnnxExport.MetadataKeys.ModelCard);
        string expected = edit switch
        {
            "fixed size" => Set(() => image[2] = image[3] = new TensorShapeProto.Types.Dimension { DimValue = 512 }, "fixed input size (512x512)"),
            "channels" => Set(() => image[1] = new TensorShapeProto.Types.Dimension { DimValue = 3 }, "takes 3 input channels where its model card says 1"),
            "classes" => Set(() => logits[1] = new TensorShapeProto.Types.Dimension { DimValue = 7 }, "outputs 7 classes where its model card names 2"),
            "card json" => Set(() => metadata.Value = metadata.Value[..20], "malformed segsharp.model_card metadata"),
            _ => Set(() => metadata.Value = metadata.Value.Replace("\"width\":4", "\"width\":4096", StringComparison.Ordinal), "model.width 4096"),
        };
        string file = Path.Combine(TestPaths.TempFolder("onnx-edit"), "model.onnx");
        File.WriteAllBytes(file, proto.ToByteArray());
        var error = Assert.Throws<SegSharpException>(() => OnnxModel.Load(file));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
        var (code, _, stderr) = CliProcess.Run(new[]
        {
            "predict", "--model", file, "--input", TestPaths.Isbi + "/image/0.png", "--output", TestPaths.TempFolder("p"),
        });
        Assert.Equal(2, code);
        Assert.Contains(expected, Assert.Single(stderr.Trim().Split('\n')), StringComparison.Ordinal);
    }

    private static string Set(Action edit, string expected)
    {
        edit();
        return expected;
    }

    /// <summary>The checkpoint again with another card and a valid checksum (as someone who knows the format could write it).</summary>
    private static string Edited(ModelCard card, CheckpointContents contents)
    {
        var original = contents.Card!;
        using var model = ModelFactory.Create(original.Model, original.InputChannels, original.ClassCount, 1);
        SegSharp.Training.Checkpoint.LoadModel(model, contents.Model);
        string file = Path.Combine(TestPaths.TempFolder("edited"), "edited.ckpt");
        File.WriteAllBytes(file, SegSharp.Training.Checkpoint.Serialize(card, contents.State, model, null).ToArray());
        return file;
    }
}
